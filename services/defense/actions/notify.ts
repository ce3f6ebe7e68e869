import { createHmac } from 'node:crypto';
import pRetry from 'p-retry';
import { VigilError } from '../../../common/errors.ts';

/**
 * What every defense notification shares: the notice, the body signature, and one HTTP POST with
 * retries of transient failures (p-retry).
 */

export class DefenseActionError extends VigilError {
  override name = 'DefenseActionError';
  /** Requests made before giving up (set by postJson). */
  attempts?: number;
}

/** What a delivered notification took: the receiver's status and the requests made. */
export interface Delivery {
  status: number;
  attempts: number;
}

/** A receiver answered with a non-2xx status. */
export class HttpStatusError extends DefenseActionError {
  override name = 'HttpStatusError';
  readonly status: number;
  constructor(what: string, status: number, body: string) {
    super(`${what} answered HTTP ${status}`, { details: body.slice(0, 200) });
    this.status = status;
  }
}

/** What every notification carries about the incident. */
export interface AlertNotice {
  alertId: string;
  chainId: number;
  severity: string;
  contract: string;
  invariant: { id: string; kind: string; description: string };
  tx: { hash: string; from: string; to: string | null };
  before: string | null;
  after: string | null;
  votes: { violated: number; total: number };
  raisedAt: string;
  pause?: { hash: string } | null;
}

export const SIGNATURE_HEADER = 'x-vigil-signature';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`; receivers recompute it with the shared secret. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs `body`; retries network failures, timeouts, 5xx and 429 (`attempts` in all, 200 ms then
 * doubling between them); any other status means the request is wrong and is not resent.
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; attempts: number; what: string },
): Promise<Delivery & { body: string }> {
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts++;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        const text = await res.text();
        // Delivered: the body is the caller's to read (a webhook may answer "ok"), never a reason to resend.
        if (res.ok) return { body: text, status: res.status, attempts };
        throw new HttpStatusError(opts.what, res.status, text);
      },
      {
        retries: Math.max(0, opts.attempts - 1),
        minTimeout: 200,
        factor: 2,
        randomize: false,
        shouldRetry: ({ error }) =>
          !(error instanceof HttpStatusError && error.status < 500 && error.status !== 429),
      },
    );
  } catch (e) {
    const err =
      e instanceof DefenseActionError
        ? e
        : new DefenseActionError(`${opts.what} failed`, { details: (e as Error)?.message, cause: e });
    err.attempts = attempts;
    throw err;
  }
}
