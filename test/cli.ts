import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { findFreePort } from '../common/ports.ts';

/** Runs `vigil` as a user would: `node --import tsx bin/vigil.ts …` from the project root. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

export interface VigilRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
  /** When the process exited (Date.now()). */
  exitedAt: number;
  ms: number;
}

/**
 * Spawns `vigil <args>` with exactly `env` (plus PATH and HOME), collects its output, and stops it
 * (SIGTERM, then SIGKILL) once `stopWhen` matches the output or after `killAfterMs`: long-running
 * services do not exit by themselves.
 */
export function runVigil(
  args: string[],
  env: Record<string, string>,
  opts: { killAfterMs?: number; stopWhen?: RegExp } = {},
): Promise<VigilRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  };
  const onData = (d: Buffer) => {
    output += d.toString('utf8');
    if (opts.stopWhen?.test(output)) stop();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(stop, opts.killAfterMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitedAt = Date.now();
      resolve({ code, signal, output, exitedAt, ms: exitedAt - started });
    });
  });
}

/** Lines of a JavaScript stack trace (`    at fn (file:line)`). */
export const STACK_LINE = /^\s+at .+/m;

/** A loopback port nobody listens on (connections are refused). */
export async function refusedPort(): Promise<number> {
  return findFreePort();
}

export interface SilentServer {
  host: string;
  port: number;
  /** When the first client connected (Date.now()), if one did. */
  firstContact(): number | undefined;
  close(): Promise<void>;
}

/**
 * A TCP server that accepts connections and never answers: a dependency that hangs rather than
 * refuses, the case timeouts on connect alone do not catch.
 */
export async function silentServer(host = '127.0.0.1'): Promise<SilentServer> {
  let first: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    first ??= Date.now();
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    firstContact: () => first,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
