import {
  type CaseInput,
  type CaseRecord,
  createCase,
  deleteCase,
  getCase,
  listCases,
  updateCase,
} from '../../../graph/investigate/cases.ts';
import { requireWrite } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, pageSize, quote, userError } from '../errors.ts';
import { withTimeoutError } from '../limits.ts';
import { type GqlChain, limitsOf, toChain } from './investigate.ts';

/** Bounds of a case: a saved view, not a dump of the graph. */
export const CASE_LIMITS = {
  titleChars: 200,
  notesChars: 20_000,
  wallets: 200,
  paths: 50,
  pathWallets: 20,
} as const;

interface CaseInputArg {
  id?: string | null;
  title: string;
  notes?: string | null;
  chain: GqlChain;
  wallets?: string[] | null;
  paths?: string[][] | null;
}

const CASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const bad = (argument: string, message: string) =>
  userError(`${argument} ${message}`, 'BAD_USER_INPUT', { argument });

/** A case id argument: the UUID cases get, else BAD_USER_INPUT. */
function caseId(argument: string, id: string): string {
  if (!CASE_ID.test(id)) throw bad(argument, `is not a case id (a UUID), got ${quote(id)}`);
  return id;
}

function checkText(argument: string, v: string, min: number, max: number, multiline: boolean): string {
  if (v.length < min || v.length > max)
    throw bad(argument, `must be ${min} to ${max.toLocaleString('en')} characters, got ${v.length}`);
  const control = (multiline ? /[^\P{Cc}\n\r\t]/u : /\p{Cc}/u).exec(v);
  if (control)
    throw bad(
      argument,
      `must not contain control characters, found U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${control.index}`,
    );
  return v;
}

/** Every field checked, each error naming it (`input.paths[2][0]`). */
export function checkCaseInput(input: CaseInputArg): CaseInput {
  const a = { ...input, wallets: input.wallets ?? [], paths: input.paths ?? [] };
  const chain = toChain(a.chain);
  const title = checkText('input.title', a.title.trim(), 1, CASE_LIMITS.titleChars, false);
  const notes = checkText('input.notes', a.notes ?? '', 0, CASE_LIMITS.notesChars, true);
  if (a.wallets.length > CASE_LIMITS.wallets)
    throw bad('input.wallets', `holds ${a.wallets.length} wallets; at most ${CASE_LIMITS.wallets}`);
  if (a.paths.length > CASE_LIMITS.paths)
    throw bad('input.paths', `holds ${a.paths.length} paths; at most ${CASE_LIMITS.paths}`);
  const wallets = [...new Set(a.wallets.map((w, i) => addressArg(chain, `input.wallets[${i}]`, w)))];
  const paths = a.paths.map((p, i) => {
    if (p.length < 2 || p.length > CASE_LIMITS.pathWallets)
      throw bad(`input.paths[${i}]`, `must hold 2 to ${CASE_LIMITS.pathWallets} wallets, got ${p.length}`);
    return p.map((w, j) => addressArg(chain, `input.paths[${i}][${j}]`, w));
  });
  return { title, notes, chain, wallets, paths };
}

const read = <T>(ctx: ApiContext, what: string, work: (timeoutMs: number) => Promise<T>) => {
  const { readTimeoutMs } = limitsOf(ctx);
  return withTimeoutError(what, readTimeoutMs, () => work(readTimeoutMs));
};

/** Resolvers of schema/cases.graphql. */
export const caseResolvers = {
  Query: {
    case: (_: unknown, a: { id: string }, ctx: ApiContext) =>
      read(ctx, 'the case', (timeoutMs) => getCase(ctx.graph, caseId('id', a.id), { timeoutMs })),
    cases: (_: unknown, a: { first: number }, ctx: ApiContext) =>
      read(ctx, 'the cases', (timeoutMs) => listCases(ctx.graph, pageSize(a.first), { timeoutMs })),
  },
  Mutation: {
    saveCase: async (_: unknown, a: { input: CaseInputArg }, ctx: ApiContext) => {
      requireWrite(ctx.role);
      const input = checkCaseInput(a.input);
      if (a.input.id == null) return createCase(ctx.graph, input);
      const saved = await updateCase(ctx.graph, caseId('input.id', a.input.id), input);
      if (!saved)
        throw userError(`no case ${a.input.id} to save over`, 'NOT_FOUND', { argument: 'input.id' });
      return saved;
    },
    deleteCase: (_: unknown, a: { id: string }, ctx: ApiContext) => {
      requireWrite(ctx.role);
      return deleteCase(ctx.graph, caseId('id', a.id));
    },
  },
  Case: {
    chain: (c: CaseRecord) => c.chain.toUpperCase(),
  },
};
