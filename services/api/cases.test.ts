import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { createTestApi } from '../../test/api.ts';
import { newEthAddress, newSs58 } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';
import type { ApiHandler } from './server.ts';

// Cases (issue 17 item 4): an investigation saved under the write key and opened by id by anyone
// who can read; every bound refused with BAD_USER_INPUT naming the field, and nothing stored then.

const READ = 'read-key-of-the-cases-test';
const WRITE = 'write-key-of-the-cases-test';
let graph: Graph;
let yoga: ApiHandler;
beforeAll(async () => {
  graph = await openTestGraph();
  yoga = createTestApi({
    graph,
    keys: [
      { role: 'read', key: READ },
      { role: 'write', key: WRITE },
    ],
  });
});
afterAll(() => graph?.close());

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}
const ask = async (query: string, variables: Record<string, unknown> = {}, key?: string): Promise<Answer> => {
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Answer;
};
const SAVE = `mutation($input: CaseInput!) { saveCase(input: $input) {
  id title notes chain wallets paths createdAt updatedAt } }`;
const OPEN = 'query($id: ID!) { case(id: $id) { id title notes chain wallets paths } }';
const count = async () => ((await ask('{ cases(first: 100) { id } }')).data!.cases as unknown[]).length;

describe('cases', () => {
  it('saves a case, opens it by id, replaces it, lists it and deletes it', async () => {
    const [a, b, c] = [newSs58(), newSs58(), newSs58()];
    const input = {
      title: 'Drain of 5Fx',
      notes: 'line one\nline two',
      chain: 'BITTENSOR',
      wallets: [a, b, a],
      paths: [[a, b, c]],
    };
    const saved = (await ask(SAVE, { input }, WRITE)).data!.saveCase as Record<string, unknown>;
    expect(saved).toMatchObject({
      title: 'Drain of 5Fx',
      notes: 'line one\nline two',
      chain: 'BITTENSOR',
      wallets: [a, b],
      paths: [[a, b, c]],
    });
    const id = saved.id as string;
    // Anyone with the read key opens it by its id.
    expect((await ask(OPEN, { id }, READ)).data!.case).toEqual({
      id,
      title: 'Drain of 5Fx',
      notes: 'line one\nline two',
      chain: 'BITTENSOR',
      wallets: [a, b],
      paths: [[a, b, c]],
    });

    const replaced = await ask(SAVE, { input: { ...input, id, notes: 'confirmed', wallets: [c] } }, WRITE);
    expect(replaced.data!.saveCase).toMatchObject({
      id,
      notes: 'confirmed',
      wallets: [c],
      createdAt: saved.createdAt,
    });
    const listed = (await ask('{ cases { id title } }')).data!.cases as { id: string }[];
    expect(listed.find((x) => x.id === id)).toEqual({ id, title: 'Drain of 5Fx' });

    const del = 'mutation($id: ID!) { deleteCase(id: $id) }';
    expect((await ask(del, { id }, WRITE)).data!.deleteCase).toBe(true);
    expect((await ask(OPEN, { id })).data!.case).toBeNull();
    expect((await ask(del, { id }, WRITE)).data!.deleteCase).toBe(false);
  });

  it('needs the write key to save or delete', async () => {
    const input = { title: 't', chain: 'ETHEREUM', wallets: [newEthAddress()] };
    const before = await count();
    const anonymous = await ask(SAVE, { input });
    expect(anonymous.errors?.[0]?.extensions?.code, JSON.stringify(anonymous)).toBe('UNAUTHENTICATED');
    expect((await ask(SAVE, { input }, READ)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await count()).toBe(before);
  });

  it('refuses each bound with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const a = newSs58();
    const ok = { title: 'ok', chain: 'BITTENSOR', wallets: [a], paths: [] as string[][] };
    const before = await count();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...ok, title: '   ' }, 'input.title', /1 to 200 characters, got 0/],
      [{ ...ok, title: 'x'.repeat(201) }, 'input.title', /got 201/],
      [{ ...ok, title: 'a\u0007b' }, 'input.title', /U\+0007 at position 1/],
      [{ ...ok, notes: 'n'.repeat(20_001) }, 'input.notes', /0 to 20,000 characters/],
      [{ ...ok, wallets: [a, '0xnot-a-wallet'] }, 'input.wallets[1]', /not a valid bittensor address/],
      [{ ...ok, wallets: Array.from({ length: 201 }, () => a) }, 'input.wallets', /at most 200/],
      [{ ...ok, paths: [[a]] }, 'input.paths[0]', /2 to 20 wallets, got 1/],
      [{ ...ok, paths: [[a, 'not-an-ss58']] }, 'input.paths[0][1]', /not a valid bittensor address/],
      [{ ...ok, paths: Array.from({ length: 51 }, () => [a, a]) }, 'input.paths', /at most 50/],
      [{ ...ok, id: 'not-a-uuid' }, 'input.id', /not a case id/],
    ];
    for (const [input, argument, message] of cases) {
      const e = (await ask(SAVE, { input }, WRITE)).errors?.[0];
      expect(e?.extensions, argument).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(e?.message).toMatch(message);
    }
    const missing = await ask(SAVE, { input: { ...ok, id: crypto.randomUUID() } }, WRITE);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await count()).toBe(before);
    expect((await ask(OPEN, { id: 'x' })).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'id',
    });
  });
});
