import { ApiPromise, WsProvider } from '@polkadot/api';
import { type Log, silentLogger } from '../../common/logger.ts';
import { redactUrl } from '../../common/redact.ts';
import { ChainUnreachableError } from './errors.ts';

export interface ConnectSubtensorOptions {
  /** Give up (and close the socket) after this long. Default 10 s. */
  timeoutMs?: number;
  log?: Log;
}

/**
 * Subtensor's signed extensions carry no extra bytes on spec 218; declaring them keeps
 * @polkadot/api from warning and treats them as empty, which is what the runtime expects.
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = {
  SubtensorSignedExtension: { extrinsic: {}, payload: {} },
  CommitmentsSignedExtension: { extrinsic: {}, payload: {} },
} as const;

/**
 * Connects to a subtensor node. @polkadot/api retries forever by default; this fails with a
 * ChainUnreachableError naming the URL once `timeoutMs` has passed without a ready API.
 */
export async function connectSubtensor(
  url: string,
  { timeoutMs = 10_000, log = silentLogger }: ConnectSubtensorOptions = {},
): Promise<ApiPromise> {
  const started = Date.now();
  let lastError: unknown;
  let provider: WsProvider;
  try {
    // autoConnect 1 s keeps retrying within the deadline; the request timeout bounds each call.
    provider = new WsProvider(url, 1_000, {}, timeoutMs);
  } catch (cause) {
    throw new ChainUnreachableError(url, { timeoutMs, cause });
  }
  const onError = (err: unknown) => {
    lastError = err;
  };
  const unsubscribe = provider.on('error', onError);
  const api = new ApiPromise({ provider, noInitWarn: true, signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS });
  api.on('error', onError);

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ChainUnreachableError(url, { timeoutMs, cause: lastError })),
      timeoutMs,
    );
  });
  try {
    await Promise.race([api.isReadyOrError, deadline]);
  } catch (err) {
    await api.disconnect().catch(() => {});
    if (err instanceof ChainUnreachableError) throw err;
    throw new ChainUnreachableError(url, { timeoutMs, cause: err });
  } finally {
    clearTimeout(timer);
  }
  unsubscribe();
  log.info(
    { url: redactUrl(url), spec: api.runtimeVersion.specVersion.toNumber(), ms: Date.now() - started },
    'connected to subtensor',
  );
  return api;
}
