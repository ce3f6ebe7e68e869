import { type AlertNotice, DefenseActionError, type Delivery, postJson } from './notify.ts';

export function telegramText(n: AlertNotice): string {
  return [
    `🚨 Vigil ${n.severity.toUpperCase()}: invariant violated by a pending transaction`,
    `Network: chain ${n.chainId}`,
    `Contract: ${n.contract}`,
    `Condition: ${n.invariant.id} (${n.invariant.kind})${n.invariant.description ? ` — ${n.invariant.description}` : ''}`,
    `Tx: ${n.tx.hash} from ${n.tx.from}`,
    `Value: ${n.before ?? '?'} → ${n.after ?? '?'}`,
    `Votes: ${n.votes.violated}/${n.votes.total} miners`,
    n.pause ? `Pause sent: ${n.pause.hash}` : 'No pause sent',
  ].join('\n');
}

/** Telegram Bot API sendMessage. The token is part of the URL: it is never logged or put in errors. */
export async function sendTelegram(opts: {
  baseUrl: string;
  token: string;
  chatId: string;
  notice: AlertNotice;
  timeoutMs?: number;
}): Promise<Delivery> {
  const url = `${opts.baseUrl.replace(/\/$/, '')}/bot${opts.token}/sendMessage`;
  const body = JSON.stringify({
    chat_id: opts.chatId,
    text: telegramText(opts.notice),
    disable_web_page_preview: true,
  });
  const {
    body: text,
    status,
    attempts,
  } = await postJson(
    url,
    body,
    {},
    { timeoutMs: opts.timeoutMs ?? 5000, attempts: 3, what: 'Telegram sendMessage' },
  );
  let res: { ok?: boolean; description?: string } | null = null;
  try {
    res = JSON.parse(text);
  } catch {
    // Not the Bot API's JSON: reported below with the body.
  }
  if (!res?.ok) {
    const err = new DefenseActionError('Telegram refused the message', {
      details: res?.description ?? text.slice(0, 200),
    });
    err.attempts = attempts;
    throw err;
  }
  return { status, attempts };
}
