import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { HARDFORK } from '../../chains/ethereum/hardfork.ts';
import { VigilError } from '../../common/errors.ts';
import type { Log } from '../../common/logger.ts';
import { findFreePort } from '../../common/ports.ts';

/** anvil's well-known dev mnemonic; passed explicitly so our key derivation cannot drift from the node's. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export class LocalNodeError extends VigilError {
  override name = 'LocalNodeError';
}

export interface DevAccount {
  address: string;
  privateKey: string;
}

export interface LocalNode {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  chainId: number;
  accounts: DevAccount[];
  /** Mine n blocks now (anvil_mine); pending txs are included by fee order. */
  mine(n?: number): Promise<void>;
  /** Raw JSON-RPC call to the node (test helper). */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

export interface StartAnvilOptions {
  /** 0 or undefined: pick a free loopback port. */
  port?: number;
  log: Log;
  /** Seconds between automatic blocks; undefined = no mining until mine() is called. */
  blockTime?: number;
  accounts?: number;
  hardfork?: string;
  chainId?: number;
  /** Path to the anvil binary; defaults to the project's node_modules/.bin/anvil. */
  binary?: string;
  startTimeoutMs?: number;
}

function defaultBinary(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', 'node_modules', '.bin', 'anvil');
}

async function rawRpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new LocalNodeError(`anvil ${method} failed`, { details: body.error.message });
  return body.result as T;
}

export async function startAnvil(opts: StartAnvilOptions): Promise<LocalNode> {
  const binary = opts.binary ?? defaultBinary();
  if (!existsSync(binary)) {
    throw new LocalNodeError(`anvil binary not found at ${binary}`, {
      details: 'Install the dev dependency @foundry-rs/anvil (it ships the binary), or pass `binary`.',
    });
  }
  const port = opts.port && opts.port > 0 ? opts.port : await findFreePort();
  const chainId = opts.chainId ?? 31337;
  const nAccounts = opts.accounts ?? 10;
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--hardfork',
    opts.hardfork ?? HARDFORK,
    '--order',
    'fees',
    '--chain-id',
    String(chainId),
    '--accounts',
    String(nAccounts),
    '--mnemonic',
    DEV_MNEMONIC,
  ];
  // Either interval mining or none: txs must wait in the mempool for the pre-mining checks to matter.
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  else args.push('--no-mining');

  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  let ready = false;
  while (!ready) {
    if (exited) {
      throw new LocalNodeError(`anvil exited during start (code ${exited.code})`, { details: output.trim() });
    }
    const err = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 40, undefined))]);
    if (err) throw new LocalNodeError(`could not start anvil: ${err.message}`, { cause: err });
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new LocalNodeError(`anvil did not answer on ${rpcUrl} in time`, { details: output.trim() });
    }
    try {
      await rawRpc(rpcUrl, 'eth_chainId');
      ready = true;
    } catch {
      // not listening yet
    }
  }
  opts.log.info({ rpcUrl, pid: child.pid, hardfork: opts.hardfork ?? HARDFORK }, 'anvil up');

  const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
  const accounts: DevAccount[] = [];
  for (let i = 0; i < nAccounts; i++) {
    const w = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
    accounts.push({ address: w.address, privateKey: w.privateKey });
  }

  let stopped = false;
  return {
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    chainId,
    accounts,
    rpc: (method, params) => rawRpc(rpcUrl, method, params),
    async mine(n = 1) {
      await rawRpc(rpcUrl, 'anvil_mine', [`0x${n.toString(16)}`]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitPromise;
        clearTimeout(t);
      }
      opts.log.info({ port }, 'anvil stopped');
    },
  };
}
