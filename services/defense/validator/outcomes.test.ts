import { describe, expect, it } from 'vitest';
import { DefenseActionError } from '../actions.ts';
import { outcomeReason } from './outcomes.ts';

describe('outcomeReason', () => {
  it('keeps the reason and drops the bot token, a webhook URL secret and URL passwords', () => {
    const token = '123456:AAE-secret-bot-token';
    const url = 'https://hooks.example/path?token=abcdef123456';
    const err = new DefenseActionError('Telegram sendMessage failed', {
      details: `POST https://api.telegram.org/bot${token}/sendMessage: ECONNRESET; ${url}; http://u:pw@h/x`,
    });
    const reason = outcomeReason(err, [token, url]);
    expect(reason).toBe(
      'Telegram sendMessage failed POST https://api.telegram.org/bot***/sendMessage: ECONNRESET; https://hooks.example/path?token=***; http://u:***@h/x',
    );
    expect(reason).not.toContain('AAE-secret');
    expect(reason).not.toContain('abcdef123456');
  });
});
