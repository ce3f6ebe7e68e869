import type { z } from 'zod';
import { InvalidPayloadError } from '../common/errors.ts';

/** Each zod problem as `<field path>: <message>`, so a rejection names the field. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** Parses `data` with `schema`; throws InvalidPayloadError listing every problem by field path. */
export function parseWith<S extends z.ZodTypeAny>(schema: S, data: unknown): z.infer<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new InvalidPayloadError(formatIssues(r.error));
  return r.data;
}

/** Parses a JSON text (a Redis value or pub/sub message) with `schema`; bad JSON is a `(root)` issue. */
export function parseJsonWith<S extends z.ZodTypeAny>(schema: S, text: string): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InvalidPayloadError([`(root): not JSON (${(e as Error).message})`]);
  }
  return parseWith(schema, data);
}
