import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs; secrets are redacted by key name wherever they appear. */
export function createLogger(opts: { level: string; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    redact: {
      paths: ['*.password', '*.apiKey', '*.privateKey', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  });
}
