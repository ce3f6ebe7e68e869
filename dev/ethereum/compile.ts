import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { HARDFORK } from '../../chains/ethereum/hardfork.ts';
import { VigilError } from '../../common/errors.ts';
import type { Log } from '../../common/logger.ts';

/** Pinned compiler: the cache key includes it, and a different bundled solc is refused. */
export const SOLC_VERSION = '0.8.37';

export class CompileError extends VigilError {
  override name = 'CompileError';
}

export interface StorageEntry {
  label: string;
  slot: string;
  /** Byte offset from the low-order end of the slot (packed fields share a slot). */
  offset: number;
  type: string;
  contract: string;
}

export interface StorageType {
  label: string;
  encoding: string;
  numberOfBytes: string;
}

export interface CompiledContract {
  name: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  storageLayout: { storage: StorageEntry[]; types: Record<string, StorageType> | null };
}

export interface CompileOptions {
  /** File name → Solidity source. Imports must resolve inside this map (no filesystem reads by solc). */
  sources: Record<string, string>;
  cacheDir: string;
  log: Log;
  evmVersion?: string;
  optimizerRuns?: number;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<
      string,
      {
        abi: unknown[];
        evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
        storageLayout: CompiledContract['storageLayout'];
      }
    >
  >;
}

interface Solc {
  version(): string;
  compile(input: string): string;
}

// solc-js is CommonJS and loading its wasm is slow (~1 s): load once, only on a cache miss.
let solcPromise: Promise<Solc> | undefined;
function loadSolc(): Promise<Solc> {
  solcPromise ??= Promise.resolve().then(() => createRequire(import.meta.url)('solc') as Solc);
  return solcPromise;
}

/** Compiles with solc-js offline; results are cached by a hash of sources + settings + compiler version. */
export async function compileSolidity(opts: CompileOptions): Promise<Record<string, CompiledContract>> {
  const settings = {
    evmVersion: opts.evmVersion ?? HARDFORK,
    optimizer: { enabled: true, runs: opts.optimizerRuns ?? 200 },
    outputSelection: {
      '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] },
    },
  };
  const names = Object.keys(opts.sources).sort();
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: SOLC_VERSION, settings, sources: names.map((n) => [n, opts.sources[n]]) }))
    .digest('hex')
    .slice(0, 32);
  const cacheFile = join(opts.cacheDir, `solc-${hash}.json`);
  try {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, CompiledContract>;
    opts.log.debug({ file: basename(cacheFile) }, 'solc cache hit');
    return cached;
  } catch {
    // miss: compile below
  }

  const solc = await loadSolc();
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    throw new CompileError(`solc ${solc.version()} is installed, ${SOLC_VERSION} is pinned`);
  }
  opts.log.info(
    { solc: SOLC_VERSION, evmVersion: settings.evmVersion, files: names.join(', ') },
    'compiling with solc',
  );
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(names.map((n) => [n, { content: opts.sources[n] }])),
    settings,
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new CompileError(`solidity compilation failed (${errors.length} error(s))`, {
      details: errors.map((e) => e.formattedMessage).join('\n'),
    });
  }
  const result: Record<string, CompiledContract> = {};
  for (const file of Object.values(out.contracts ?? {})) {
    for (const [name, c] of Object.entries(file)) {
      result[name] = {
        name,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        storageLayout: c.storageLayout,
      };
    }
  }
  await mkdir(opts.cacheDir, { recursive: true });
  // Write then rename: concurrent test workers never read a half-written cache file.
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(result));
  await rename(tmp, cacheFile);
  return result;
}

/** Reads .sol files from disk (keyed by base name, so `import "./X.sol"` resolves within the set) and compiles them. */
export async function compileFiles(
  paths: string[],
  opts: Omit<CompileOptions, 'sources'>,
): Promise<Record<string, CompiledContract>> {
  const sources: Record<string, string> = {};
  for (const p of paths) sources[basename(p)] = await readFile(p, 'utf8');
  return compileSolidity({ ...opts, sources });
}

/** Finds a state variable in a storage layout: its slot, byte offset and size (for packed-field invariants). */
export function storageSlotOf(
  c: CompiledContract,
  label: string,
): { slot: bigint; offset: number; size: number; type: string } {
  const entry = c.storageLayout.storage.find((s) => s.label === label);
  if (!entry) throw new CompileError(`no state variable '${label}' in ${c.name}`);
  const t = c.storageLayout.types?.[entry.type];
  return {
    slot: BigInt(entry.slot),
    offset: entry.offset,
    size: Number(t?.numberOfBytes ?? 32),
    type: entry.type,
  };
}
