import { type Logger, createLogger } from '../common/logger.ts';

/** One line a real pino logger wrote, parsed. */
export type LogLine = { level: number; msg: string; component?: string } & Record<string, unknown>;

/** pino's numeric levels, for assertions that read as words. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * A real pino logger (common/logger.ts, redaction included) whose lines land in `lines` instead
 * of stdout, for tests that check what a component logged and at which level.
 */
export function captureLogger(level = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger({
    level,
    name: 'test',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  return { log, lines };
}
