import { ConfigError, ServiceUnavailableError, UsageError, VigilError } from '../common/errors.ts';
import { createRedactor, redactConsole } from '../common/redact.ts';
import { defenseMinerCommand, defenseValidatorCommand, invariantsCommand } from './commands/defense.ts';
import { infraCommand } from './commands/infra.ts';
import { ingestAdminCommand } from './commands/ingestAdmin.ts';
import { minersCommand } from './commands/miners.ts';
import { patrolMinerCommand, patrolValidatorCommand } from './commands/patrol.ts';
import { apiCommand, ingestWorkerCommand } from './commands/services.ts';
import { type Runtime, createRuntime } from './runtime.ts';

/**
 * The demo, its local chain and the test kits live in dev/ and need the devDependencies, so they
 * load only when asked for: every other command runs from a production install (npm ci --omit=dev).
 */
async function runDemo(rt: Runtime, args: string[]): Promise<void> {
  let demo: typeof import('../dev/demo.ts');
  try {
    demo = await import('../dev/demo.ts');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new VigilError('demo needs the development install (npm ci, without --omit=dev)', {
      details: (err as Error).message,
      cause: err,
    });
  }
  await demo.demoCommand(rt, args);
}

interface Command {
  summary: string;
  /** Long-running services keep the process alive until SIGINT/SIGTERM. */
  longRunning: boolean;
  run(rt: Runtime, args: string[]): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'the main job end to end on local defaults (npm start); --exit to stop after',
    longRunning: true,
    run: runDemo,
  },
  infra: {
    summary: 'infra up|down — start or reuse Redis and Neo4j, apply the schema',
    longRunning: false,
    run: infraCommand,
  },
  api: {
    summary: 'the GraphQL API (GraphiQL at /graphql), /health, /metrics',
    longRunning: true,
    run: apiCommand,
  },
  'ingest-worker': {
    summary: 'merge accepted subgraphs and findings into Neo4j',
    longRunning: true,
    run: ingestWorkerCommand,
  },
  ingest: {
    summary: 'ingest stats|retry-failed — inspect the ingestion queue',
    longRunning: false,
    run: ingestAdminCommand,
  },
  'patrol-miner': {
    summary: 'answer Patrol challenges with chain-evidenced subgraphs',
    longRunning: true,
    run: patrolMinerCommand,
  },
  'patrol-validator': {
    summary: 'challenge, verify and score Patrol miners; set weights',
    longRunning: true,
    run: patrolValidatorCommand,
  },
  'defense-miner': {
    summary: 'check pending Ethereum txs against invariants for defense validators',
    longRunning: true,
    run: defenseMinerCommand,
  },
  'defense-validator': {
    summary: 'watch the mempool, take miner consensus, pause and alert',
    longRunning: true,
    run: defenseValidatorCommand,
  },
  invariants: {
    summary: 'invariants add|list|remove — manage the defense invariant registry',
    longRunning: false,
    run: invariantsCommand,
  },
  miners: {
    summary: "miners credentials <hotkey> [--apply] | revoke <hotkey> — a miner's own Redis user",
    longRunning: false,
    run: minersCommand,
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: vigil <command> [args]\n\n${rows.join('\n')}\n\nConfiguration comes from the environment: see README.md.`;
}

export async function main(argv: string[]): Promise<number> {
  redactConsole(createRedactor(process.env));
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`vigil: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let rt: Runtime | undefined;
  try {
    rt = createRuntime(name);
    await command.run(rt, args);
    if (!command.longRunning) await rt.shutdown.kill();
    return 0;
  } catch (err) {
    await rt?.shutdown.kill();
    console.error(failureText(name, err, process.env));
    return exitCodeOf(err);
  }
}

/** Exit codes: 2 a bad setting or argument, 3 a service Vigil needs does not answer, 1 anything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError || err instanceof UsageError) return 2;
  if (err instanceof ServiceUnavailableError) return 3;
  return 1;
}

/**
 * What a failed command prints: the message a person acts on, never a stack unless LOG_LEVEL is
 * debug or trace, and never a secret (raw env: the settings may be what failed to parse).
 */
export function failureText(command: string, err: unknown, env: NodeJS.ProcessEnv): string {
  const redact = createRedactor(env);
  const debug = env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace';
  const text =
    err instanceof VigilError
      ? `${err.shortMessage}${err.details ? `\n${err.details}` : ''}`
      : `${(err as Error)?.message ?? String(err)}${debug ? '' : '\n(LOG_LEVEL=debug shows where it failed)'}`;
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return redact(`vigil ${command}: ${text}${stack}`);
}
