import { ConfigError, ServiceUnavailableError, VigilError } from '../../common/errors.ts';
import { redactUrl } from '../../common/redact.ts';

/** The raw chain spec given to the local chain does not exist or is not readable. */
export class ChainSpecNotFoundError extends ConfigError {
  override name = 'ChainSpecNotFoundError';
  readonly specPath: string;
  constructor(specPath: string, opts: { cause?: unknown } = {}) {
    super(`SUBTENSOR_SPEC: no subtensor chain spec at ${specPath}`, {
      details: 'Set SUBTENSOR_SPEC to the path of a raw chain spec JSON (e.g. subtensor-raonet.json).',
      cause: opts.cause,
    });
    this.specPath = specPath;
  }
}

/** The subtensor node at `url` did not answer in time. Retrying later may help. */
export class ChainUnreachableError extends ServiceUnavailableError {
  override name = 'ChainUnreachableError';
  readonly url: string;
  constructor(url: string, opts: { timeoutMs: number; cause?: unknown }) {
    // A WebSocket error event is no Error but may carry a message; never print "[object Object]".
    const message = (opts.cause as { message?: unknown } | undefined)?.message;
    const reason =
      typeof message === 'string' && message
        ? message
        : opts.cause instanceof Error || typeof opts.cause !== 'object'
          ? opts.cause && String(opts.cause)
          : undefined;
    super(`subtensor node unreachable at ${redactUrl(url)} (no answer within ${opts.timeoutMs} ms)`, {
      details: reason ? `last error: ${reason}` : undefined,
      cause: opts.cause,
    });
    this.url = url;
  }
}

/** An extrinsic was included but the runtime rejected it (`System.ExtrinsicFailed`). */
export class ExtrinsicFailedError extends VigilError {
  override name = 'ExtrinsicFailedError';
  readonly call: string;
  /** `Pallet.ErrorName` for module errors, else the DispatchError kind (`BadOrigin`, ...). */
  readonly error: string;
  readonly blockNumber: number;
  constructor(call: string, error: string, opts: { blockNumber: number; docs?: string }) {
    super(`${call} failed in block ${opts.blockNumber}: ${error}`, { details: opts.docs || undefined });
    this.call = call;
    this.error = error;
    this.blockNumber = opts.blockNumber;
  }
}

/** A submitted extrinsic is not in the block built after it (invalid, or the pool dropped it). */
export class ExtrinsicNotIncludedError extends VigilError {
  override name = 'ExtrinsicNotIncludedError';
  readonly call: string;
  constructor(call: string, opts: { blockNumber: number; details?: string; cause?: unknown }) {
    super(`${call} was not included in block ${opts.blockNumber}`, {
      details: opts.details,
      cause: opts.cause,
    });
    this.call = call;
  }
}

/** The node refused an extrinsic at submission (pool validation, e.g. `Invalid Transaction: Custom error: 6`). */
export class ExtrinsicRejectedError extends VigilError {
  override name = 'ExtrinsicRejectedError';
  readonly call: string;
  constructor(call: string, reason: string, opts: { cause?: unknown } = {}) {
    super(`${call} rejected by the node: ${reason}`, { cause: opts.cause });
    this.call = call;
  }
}
