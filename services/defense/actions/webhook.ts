import { type AlertNotice, type Delivery, SIGNATURE_HEADER, postJson, signBody } from './notify.ts';

/** POSTs the notice as JSON with its HMAC-SHA256 in `x-vigil-signature`. Retries transient failures. */
export async function sendWebhook(opts: {
  url: string;
  secret: string;
  notice: AlertNotice;
  timeoutMs?: number;
  attempts?: number;
}): Promise<Delivery> {
  const body = JSON.stringify({ event: 'alert', ...opts.notice });
  const { status, attempts } = await postJson(
    opts.url,
    body,
    { [SIGNATURE_HEADER]: signBody(body, opts.secret), 'x-vigil-event': 'alert' },
    {
      timeoutMs: opts.timeoutMs ?? 5000,
      attempts: opts.attempts ?? 3,
      what: `webhook ${new URL(opts.url).origin}`,
    },
  );
  return { status, attempts };
}
