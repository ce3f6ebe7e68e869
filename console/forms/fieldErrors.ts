import { ApiError } from '../api.ts';

/**
 * The API's refusal of a form, by field: the form shows each message under its field. The API's
 * own schema decides (no second copy of its rules here): `INVALID_INVARIANT` lists `issues` as
 * `<path>: <message>` (registry.ts), `BAD_USER_INPUT` names its `argument` (`input.wallets[1]`).
 * The field is the path's first part (`actions.0.url` → `actions`); `form` holds the rest.
 */
export type FieldErrors = Record<string, string[]>;

const fieldOf = (path: string) => path.replace(/^input\./, '').split(/[.[]/)[0] || 'form';

export function fieldErrors(err: unknown): FieldErrors {
  const out: FieldErrors = {};
  const add = (field: string, message: string) => {
    out[field] = [...(out[field] ?? []), message];
  };
  if (!(err instanceof ApiError)) {
    add('form', err instanceof Error ? err.message : String(err));
    return out;
  }
  const issues = err.extensions.issues;
  const argument = err.extensions.argument;
  if (Array.isArray(issues) && issues.length > 0) {
    for (const issue of issues.map(String)) {
      const colon = issue.indexOf(': ');
      const path = colon < 0 ? '(root)' : issue.slice(0, colon);
      add(path === '(root)' ? 'form' : fieldOf(path), issue);
    }
  } else if (typeof argument === 'string') add(fieldOf(argument), err.message);
  else add('form', err.message);
  return out;
}
