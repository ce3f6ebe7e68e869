/**
 * Defense actions run when consensus says an invariant is violated by a pending transaction:
 * a signed webhook, a Telegram message, and a pause transaction that outbids the attack. One
 * module each under ./actions/; this file names them for the callers.
 */
export {
  type AlertNotice,
  DefenseActionError,
  type Delivery,
  HttpStatusError,
  SIGNATURE_HEADER,
  signBody,
} from './actions/notify.ts';
export {
  type PauseAgent,
  type PauseAgentOptions,
  type PauseRequest,
  type PauseResult,
  attackFees,
  createPauseAgent,
  outbid,
} from './actions/pauseAgent.ts';
export { sendTelegram, telegramText } from './actions/telegram.ts';
export { sendWebhook } from './actions/webhook.ts';
