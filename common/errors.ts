/**
 * One base error for Vigil: a short message a person can act on, optional details, and the cause.
 * Subclasses carry a literal `name` so callers and tests can branch on the class.
 */
export class VigilError extends Error {
  override name = 'VigilError';
  readonly shortMessage: string;
  readonly details?: string;

  constructor(shortMessage: string, opts: { details?: string; cause?: unknown } = {}) {
    super(opts.details ? `${shortMessage}\n${opts.details}` : shortMessage, { cause: opts.cause });
    this.shortMessage = shortMessage;
    this.details = opts.details;
  }
}

/** A setting in the environment is missing or malformed. Not retryable. */
export class ConfigError extends VigilError {
  override name = 'ConfigError';
}

/** A command was called with an unknown subcommand or bad arguments. Not retryable. */
export class UsageError extends VigilError {
  override name = 'UsageError';
}

/** A queue payload failed validation: retrying cannot help, nothing of it is written. */
export class InvalidPayloadError extends VigilError {
  override name = 'InvalidPayloadError';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid payload: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** A service Vigil depends on (Redis, Neo4j, a chain RPC) did not answer. Retrying may help. */
export class ServiceUnavailableError extends VigilError {
  override name = 'ServiceUnavailableError';
}

/**
 * Runs `work` and, if it fails with a VigilError that does not say which setting points at the
 * failed service, fails again naming `setting` (e.g. SUBTENSOR_URL) so the user knows what to fix.
 */
export async function namingSetting<T>(setting: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof VigilError && !err.message.includes(setting)) {
      throw new ServiceUnavailableError(`${err.shortMessage} (${setting})`, {
        details: err.details ?? `Check ${setting} and that the service it points at is up.`,
        cause: err,
      });
    }
    throw err;
  }
}
