import { describe, expect, it } from 'vitest';
import { createRedactor, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  it.each([
    ['bolt://neo4j:s3cretpw@127.0.0.1:7687', 'bolt://neo4j:***@127.0.0.1:7687'],
    ['redis://default:pw@cache:6380/2', 'redis://default:***@cache:6380/2'],
    ['https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef', 'https://mainnet.infura.io/v3/***'],
    ['https://rpc.example.com/?apikey=k3y&chain=1', 'https://rpc.example.com/?apikey=***&chain=1'],
    // Nothing secret: exactly as given, no normalisation.
    ['http://127.0.0.1:7474', 'http://127.0.0.1:7474'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    // Not a URL: credentials in it are still masked.
    ['neo4j:pw@host', 'neo4j:pw@host'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('createRedactor', () => {
  const redact = createRedactor({
    NEO4J_URI: 'bolt://neo4j:uri-pw-1@db:7687',
    NEO4J_PASSWORD: 'neo4j-pw-2',
    VIGIL_API_KEYS: 'read:readkey-3-0123456789,write:writekey-4-0123456789',
    PATROL_HOTKEY_URI: 'one two three four//hot-5',
    DEFENSE_TELEGRAM_BOT_TOKEN: '123:tg-6',
    ETH_RPC_URL: 'https://rpc.example.com/v2/alchemyKey7abcdefghijklmnop',
    DEFENSE_CANARY_KEYS:
      '0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1, 0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2',
  });

  it('masks every secret value and URL credential wherever it appears', () => {
    const text = [
      'connect bolt://neo4j:uri-pw-1@db:7687 failed (password uri-pw-1)',
      'auth neo4j-pw-2 refused',
      'keys read:readkey-3-0123456789 writekey-4-0123456789',
      'bad uri one two three four//hot-5',
      'POST https://api.telegram.org/bot123:tg-6/sendMessage',
      'rpc https://rpc.example.com/v2/alchemyKey7abcdefghijklmnop down',
      'other ws://user:other-pw@h:1',
      // One canary key alone, as a library might echo it.
      'signer 0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2 failed',
    ].join('\n');
    const out = redact(text);
    for (const secret of [
      'uri-pw-1',
      'neo4j-pw-2',
      'readkey-3',
      'writekey-4',
      'one two three four//hot-5',
      'tg-6',
      'alchemyKey7',
      'other-pw',
      'b2b2b2b2',
    ])
      expect(out).not.toContain(secret);
    // What is not secret stays readable.
    expect(out).toContain('bolt://neo4j:***@db:7687');
    expect(out).toContain('https://api.telegram.org/bot***/sendMessage');
  });

  it('leaves text without secrets as it is', () => {
    expect(redact('Neo4j at bolt://127.0.0.1:1 (NEO4J_URI) does not answer')).toBe(
      'Neo4j at bolt://127.0.0.1:1 (NEO4J_URI) does not answer',
    );
  });
});
