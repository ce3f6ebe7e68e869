import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AlertNotice,
  DefenseActionError,
  HttpStatusError,
  SIGNATURE_HEADER,
  postJson,
  signBody,
} from './notify.ts';
import { sendTelegram } from './telegram.ts';
import { sendWebhook } from './webhook.ts';

const notice: AlertNotice = {
  alertId: 'a1',
  chainId: 31337,
  severity: 'critical',
  contract: '0x00000000000000000000000000000000000000aa',
  invariant: { id: 'inv', kind: 'slotUnchanged', description: 'owner unchanged' },
  tx: { hash: `0x${'11'.repeat(32)}`, from: '0x00000000000000000000000000000000000000bb', to: null },
  before: '1',
  after: '2',
  votes: { violated: 2, total: 3 },
  raisedAt: '2026-01-01T00:00:00.000Z',
};

/** A real HTTP receiver answering the n-th POST with answers[n] (the last one repeats). */
async function receiver(answers: [number, string][]) {
  const posts: { url: string; headers: http.IncomingHttpHeaders; body: string; at: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posts.push({ url: req.url ?? '', headers: req.headers, body, at: Date.now() });
      const [status, text] = answers[Math.min(posts.length, answers.length) - 1]!;
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  closers.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${port}`, posts };
}
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const opts = { timeoutMs: 2000, attempts: 3, what: 'test receiver' };

describe('postJson', () => {
  it('resends on 5xx and 429, waiting 200 ms then 400 ms', async () => {
    const r = await receiver([
      [503, 'busy'],
      [429, 'slow down'],
      [200, 'ok'],
    ]);
    expect(await postJson(r.url, '{}', {}, opts)).toEqual({ body: 'ok', status: 200, attempts: 3 });
    expect(r.posts.length).toBe(3);
    expect(r.posts[1]!.at - r.posts[0]!.at).toBeGreaterThanOrEqual(190);
    expect(r.posts[2]!.at - r.posts[1]!.at).toBeGreaterThanOrEqual(390);
  });

  it('never resends a request the receiver calls wrong (4xx), and names the status', async () => {
    const r = await receiver([[400, 'bad field x']]);
    const err = await postJson(r.url, '{}', {}, opts).catch((e) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.status).toBe(400);
    expect(err.shortMessage).toBe('test receiver answered HTTP 400');
    expect(err.details).toBe('bad field x');
    expect(r.posts.length).toBe(1);
  });

  it('gives up after its attempts with the last status', async () => {
    const r = await receiver([[500, 'down']]);
    const err = await postJson(r.url, '{}', {}, opts).catch((e) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(3);
    expect(r.posts.length).toBe(3);
  });

  it('a receiver nobody listens on fails as DefenseActionError naming what', async () => {
    const r = await receiver([[200, 'ok']]);
    const url = r.url;
    await closers.pop()!(); // closed: connection refused
    const err = await postJson(url, '{}', {}, { ...opts, attempts: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DefenseActionError);
    expect(err.shortMessage).toBe('test receiver failed');
    expect(err.attempts).toBe(2);
  });
});

describe('webhook', () => {
  it('POSTs the notice with its HMAC over the exact body', async () => {
    const r = await receiver([[200, 'ok']]);
    await sendWebhook({ url: `${r.url}/hook`, secret: 'k', notice });
    expect(r.posts.length).toBe(1);
    const p = r.posts[0]!;
    expect(p.url).toBe('/hook');
    expect(p.headers[SIGNATURE_HEADER]).toBe(signBody(p.body, 'k'));
    expect(p.headers['x-vigil-event']).toBe('alert');
    expect(JSON.parse(p.body)).toEqual({ event: 'alert', ...notice });
  });
});

describe('telegram', () => {
  const TOKEN = '123456:secret-token';
  it('sends sendMessage to the chat, with the token in the path only', async () => {
    const r = await receiver([[200, '{"ok":true}']]);
    await sendTelegram({ baseUrl: `${r.url}/`, token: TOKEN, chatId: '42', notice });
    expect(r.posts[0]!.url).toBe(`/bot${TOKEN}/sendMessage`);
    const body = JSON.parse(r.posts[0]!.body);
    expect(body.chat_id).toBe('42');
    expect(body.text).toContain('owner unchanged');
  });

  it("names the Bot API's refusal, never the token", async () => {
    const r = await receiver([[400, `{"ok":false,"description":"Bad Request: chat not found"}`]]);
    const err = await sendTelegram({ baseUrl: r.url, token: TOKEN, chatId: '42', notice }).catch((e) => e);
    expect(err).toBeInstanceOf(DefenseActionError);
    expect(String(err.message)).not.toContain('secret-token');
    expect(r.posts.length).toBe(1);
  });
});
