import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { SECRET_SETTINGS, URL_SETTINGS, redactUrl } from './redact.ts';

/** The EVM rules Vigil simulates, compiles and runs its dev node by unless ETH_HARDFORK says otherwise. */
export const DEFAULT_HARDFORK = 'cancun';

/**
 * Every setting Vigil reads from the environment, parsed once at start-up into typed options.
 * Nothing else in the code base reads process.env: pass the Config (or a slice of it) down.
 */
/** A whole number in [min, max], with one message that says so whatever is wrong with it. */
function whole(min: number, max = Number.MAX_SAFE_INTEGER) {
  const message =
    max === Number.MAX_SAFE_INTEGER
      ? `expected a whole number ≥ ${min}`
      : `expected a whole number from ${min} to ${max}`;
  const checked = z
    .string()
    .regex(/^-?\d+$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));
  return z.preprocess((v) => (v === undefined ? v : String(v).trim()), checked);
}
/** A port Vigil connects to. */
const port = whole(1, 65535);
/** A port Vigil listens on: 0 lets the system pick a free one. */
const listenPort = whole(0, 65535);
/** A JVM memory size as Neo4j takes it: 512m, 1g, 2048k, or bytes. */
const memorySize = z.string().regex(/^\d+[kmgKMG]?$/, 'expected a size such as 512m or 2g');

/** A URL whose scheme is one of `schemes`, with a host; `hint` is a valid example. */
function urlSetting(schemes: string[], hint: string) {
  return z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return schemes.includes(u.protocol.slice(0, -1)) && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: `expected a ${schemes.map((s) => `${s}://`).join(', ')} URL with a host, such as ${hint}` },
  );
}
const optionalUrl = (schemes: string[], hint: string) =>
  z.union([z.literal(''), urlSetting(schemes, hint)]).default('');
const NEO4J_SCHEMES = ['bolt', 'bolt+s', 'bolt+ssc', 'neo4j', 'neo4j+s', 'neo4j+ssc'];

const schema = z.object({
  REDIS_URL: urlSetting(['redis', 'rediss'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
  NEO4J_URI: urlSetting(NEO4J_SCHEMES, 'bolt://127.0.0.1:7687').default('bolt://127.0.0.1:7687'),
  NEO4J_USER: z.string().default('neo4j'),
  /** Empty means the server runs without auth (the local dev server does). */
  NEO4J_PASSWORD: z.string().default(''),
  NEO4J_DATABASE: z.string().default('neo4j'),
  NEO4J_HTTP_PORT: port.default(7474),
  NEO4J_PAGECACHE: memorySize.default('512m'),
  NEO4J_HEAP: memorySize.default('1g'),
  /** `0` turns off the local Neo4j's class-data-sharing archive (a faster JVM start, trained once). */
  VIGIL_NEO4J_CDS: z.enum(['0', '1']).default('1'),
  VIGIL_DATA_DIR: z.string().default('.vigil'),
  VIGIL_QUEUE_PREFIX: z.string().default('vigil'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: listenPort.default(4000),
  /** Port for /health and /metrics of a long-running worker service. */
  METRICS_PORT: listenPort.default(9464),
  INGEST_CONCURRENCY: whole(1, 64).default(2),
  /** Rows per Neo4j write statement (a subgraph job is one transaction of such statements). */
  INGEST_BATCH_SIZE: whole(100, 100_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUBTENSOR_URL: optionalUrl(['ws', 'wss'], 'ws://127.0.0.1:9944'),
  SUBTENSOR_SPEC: z
    .string()
    .default(path.resolve(import.meta.dirname, '../../shared/chain/subtensor-raonet.json')),
  ETH_RPC_URL: optionalUrl(['http', 'https'], 'http://127.0.0.1:8545'),
  ETH_WS_URL: optionalUrl(['ws', 'wss'], 'ws://127.0.0.1:8545'),
  /** Secret URI (mnemonic or //dev path) of this Patrol neuron's hotkey. Never logged. */
  PATROL_HOTKEY_URI: z.string().default(''),
  PATROL_NETUID: whole(0).default(1),
  /** Blocks either side of a challenge's target block (Patrol: 50). */
  PATROL_WINDOW: whole(1).default(50),
  PATROL_DEPTH: whole(1, 6).default(3),
  PATROL_TIMEOUT_MS: whole(1).default(12_000),
  PATROL_ROUND_INTERVAL_MS: whole(0).default(30_000),
  /** Rounds before the validator stops; 0 runs until stopped. */
  PATROL_ROUNDS: whole(0).default(0),
  /** Artificial answer delay of a miner, for demos of responsiveness scoring. */
  PATROL_MINER_DELAY_MS: whole(0).default(0),
  /**
   * An Ethereum node (http) with traces (`trace_block`, or `debug_traceBlockByNumber`): set, Patrol
   * runs on Ethereum too (miners answer its challenges, the validator runs a round on each chain).
   */
  PATROL_ETH_RPC_URL: optionalUrl(['http', 'https'], 'http://127.0.0.1:8545'),
  /** Ethereum Patrol draws its targets from activity in the node's last N blocks. */
  PATROL_ETH_RECENT_BLOCKS: whole(1).default(1_000),
  /** An alert's trail (services/patrol/trail.ts): targets asked per alert at most. */
  PATROL_TRAIL_MAX_TARGETS: whole(1, 16).default(4),
  /** Blocks before the head the trail's backward walk (who funded the attacker) covers. */
  PATROL_TRAIL_LOOKBACK_BLOCKS: whole(1, 4_999).default(1_000),
  /** How long after the alert the trail's forward walk is re-asked as blocks arrive. */
  PATROL_TRAIL_OPEN_MS: whole(1_000).default(600_000),
  /** How often an open trail looks for a new head. */
  PATROL_TRAIL_POLL_MS: whole(100).default(1_000),
  /**
   * A trail round's deadline: shorter than PATROL_TIMEOUT_MS because an attack is live and a
   * round ingests only when every challenged miner answered or the deadline passed (a registered
   * neuron that runs no miner would hold the trail for the whole round timeout).
   */
  PATROL_TRAIL_TIMEOUT_MS: whole(500).default(3_000),
  /** The chain is a chopsticks dev chain in manual mode: build a block after submitting. */
  SUBTENSOR_DEV_BLOCKS: z.enum(['true', 'false']).default('false'),
  /** API keys as `role:key` pairs, comma-separated; roles are `read` and `write` (write implies read). */
  VIGIL_API_KEYS: z
    .string()
    .default('')
    .refine((v) => v === '' || v.split(',').every((p) => /^(read|write):.{16,}$/.test(p.trim())), {
      message: 'expected comma-separated role:key pairs, role read or write, keys of 16+ characters',
    }),
  /** When true, queries need a read key too; by default reads are open and writes need a write key. */
  VIGIL_API_READS_NEED_KEY: z.enum(['true', 'false']).default('false'),
  /** `keyed`: schema introspection (`__schema`, `__type`) needs an API key; for production. */
  VIGIL_API_INTROSPECTION: z.enum(['open', 'keyed']).default('open'),
  /**
   * Priced cost one API caller (an API key, else a client address) may spend per window; 0 = no
   * budget. At least the largest request allowed (query cost 5000), else such a request never runs.
   */
  VIGIL_API_COST_BUDGET: whole(0)
    .refine((v) => v === 0 || v >= 5000, {
      message: 'expected 0 (no budget) or at least 5000, the cost of the largest request the API allows',
    })
    .default(100_000),
  VIGIL_API_COST_WINDOW_S: whole(1, 86_400).default(60),
  /** Requests costing at least this wait for the expensive lane; 0 = no lane. */
  VIGIL_API_EXPENSIVE_COST: whole(0).default(1000),
  VIGIL_API_EXPENSIVE_SLOTS: whole(1, 64).default(1),
  VIGIL_API_EXPENSIVE_QUEUE: whole(0, 10_000).default(32),
  /** Neo4j statements one expensive request may have in flight. */
  VIGIL_API_EXPENSIVE_NEO4J_CALLS: whole(1, 64).default(2),
  /**
   * The expensive lane's duty cycle: after a request ran t ms its slot rests this·t ms (0 = no
   * rest; 2 = heavy work at most a third of the time). services/api/lane.ts says why.
   */
  VIGIL_API_EXPENSIVE_REST: z.coerce.number().min(0).max(100).default(2),
  /** Neo4j statements any other API request may have in flight. */
  VIGIL_API_NEO4J_CALLS_PER_REQUEST: whole(1, 256).default(8),
  /** Defense (services/defense): the EVM chain id watched; 0 = ask the node (eth_chainId). */
  ETH_CHAIN_ID: whole(0).default(0),
  /** The rules the miners' EVM simulates by: must be the network's (the local dev node runs cancun). */
  ETH_HARDFORK: z.enum(['shanghai', 'cancun', 'prague', 'osaka']).default(DEFAULT_HARDFORK),
  /**
   * Secret URI (mnemonic or //dev path) of this defense miner's hotkey, registered on the subnet
   * (PATROL_NETUID): its ss58 address is the miner's id; it signs answers and heartbeats. Never logged.
   */
  DEFENSE_MINER_HOTKEY_URI: z.string().default(''),
  DEFENSE_MINER_CONCURRENCY: whole(1, 64).default(4),
  /** EVMs per miner able to simulate at once. */
  DEFENSE_ENGINE_POOL: whole(1, 32).default(2),
  DEFENSE_VALIDATOR_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('validator-1'),
  /** Miners asked per pending tx (k). */
  DEFENSE_MINERS_PER_TX: whole(1, 64).default(3),
  /** Share of the asked miners a status needs; above 1/2. */
  DEFENSE_CONSENSUS: z.coerce
    .number()
    .gt(0.5)
    .max(1)
    .default(2 / 3),
  DEFENSE_DEADLINE_MS: whole(10, 60_000).default(2000),
  DEFENSE_REGISTRY_REFRESH_MS: whole(100).default(5000),
  /** Guardian private key (0x hex) that signs pause transactions. Never logged. Empty: no pauses. */
  DEFENSE_GUARDIAN_KEY: z
    .string()
    .refine((v) => v === '' || /^0x[0-9a-fA-F]{64}$/.test(v), {
      message: 'expected a 0x-prefixed 32-byte hex private key',
    })
    .default(''),
  /** Pause fees over the attack's, in basis points (12000 = x1.2), plus 1 gwei. */
  DEFENSE_PAUSE_BUMP_BPS: whole(10_000, 100_000).default(12_000),
  DEFENSE_PAUSE_MAX_FEE_GWEI: whole(1).default(1000),
  DEFENSE_PAUSE_GAS: whole(21_000).default(100_000),
  /** HMAC-SHA256 secret for webhook signatures. Never logged. */
  DEFENSE_WEBHOOK_SECRET: z.string().default(''),
  DEFENSE_TELEGRAM_BOT_TOKEN: z.string().default(''),
  DEFENSE_TELEGRAM_API_URL: urlSetting(['http', 'https'], 'https://api.telegram.org').default(
    'https://api.telegram.org',
  ),
  /** Reward epoch: miner stats reset at each boundary. */
  DEFENSE_EPOCH_MS: whole(1).default(3_600_000),
  /** Share of defense rewards when combined with Patrol scores (0..1). */
  DEFENSE_WEIGHT_SHARE: z.coerce.number().min(0).max(1).default(0.5),
  /** Canary senders: comma-separated 0x private keys of funded accounts only the validator holds. Never logged. */
  DEFENSE_CANARY_KEYS: z
    .string()
    .default('')
    .refine((v) => v.trim() === '' || v.split(',').every((k) => /^0x[0-9a-fA-F]{64}$/.test(k.trim())), {
      message: 'expected comma-separated 0x-prefixed 32-byte hex private keys',
    }),
  /** Canaries each live miner is sent per reward epoch (0 = none). */
  DEFENSE_CANARIES_PER_EPOCH: whole(0, 100).default(3),
});

export type Env = z.infer<typeof schema>;
export type ApiRole = 'read' | 'write';
export interface ApiKey {
  role: ApiRole;
  key: string;
}

export interface Config {
  redisUrl: string;
  queuePrefix: string;
  neo4j: {
    uri: string;
    user: string;
    password: string;
    database: string;
    httpPort: number;
    pagecache: string;
    heap: string;
    /** Start the local Neo4j with its class-data-sharing archive (VIGIL_NEO4J_CDS). */
    cds: boolean;
  };
  dataDir: string;
  api: {
    host: string;
    port: number;
    keys: ApiKey[];
    readsNeedKey: boolean;
    introspection: 'open' | 'keyed';
    /** services/api/admission.ts (its `AdmissionSettings`) */
    admission: {
      /** Cost one caller may spend per window; 0 turns the budget off. */
      costBudget: number;
      /** Length of a budget window, seconds. */
      costWindowSeconds: number;
      /** Requests costing at least this go through the expensive lane; 0 turns the lane off. */
      expensiveCost: number;
      /** Expensive requests running at once. */
      expensiveSlots: number;
      /** Expensive requests waiting at most; one more is refused at once. */
      expensiveQueue: number;
      /** Neo4j statements one expensive request may have in flight. */
      expensiveNeo4jCalls: number;
      /** After an expensive request ran t ms, its slot rests this·t ms (services/api/lane.ts). */
      expensiveRest: number;
      /** Neo4j statements any other request may have in flight. */
      neo4jCallsPerRequest: number;
    };
  };
  metricsPort: number;
  ingest: { concurrency: number; batchSize: number };
  logLevel: Env['LOG_LEVEL'];
  subtensor: { url: string; specPath: string; devBlocks: boolean };
  patrol: {
    hotkeyUri: string;
    netuid: number;
    window: number;
    depth: number;
    timeoutMs: number;
    roundIntervalMs: number;
    rounds: number;
    minerDelayMs: number;
    /** Ethereum Patrol: '' is off. */
    ethRpcUrl: string;
    ethRecentBlocks: number;
    trail: { maxTargets: number; lookbackBlocks: number; openMs: number; pollMs: number; timeoutMs: number };
  };
  ethereum: { rpcUrl: string; wsUrl: string; chainId: number; hardfork: Env['ETH_HARDFORK'] };
  defense: {
    /** Secret: never log. */
    minerHotkeyUri: string;
    minerConcurrency: number;
    enginePool: number;
    validatorId: string;
    minersPerTx: number;
    threshold: number;
    deadlineMs: number;
    registryRefreshMs: number;
    /** Secrets: never log this object whole. */
    guardianKey: string;
    pauseBumpBps: number;
    pauseMaxFeeGwei: number;
    pauseGas: number;
    webhookSecret: string;
    telegram: { token: string; baseUrl: string };
    epochMs: number;
    weightShare: number;
    /** Secrets: canary sender keys. */
    canaryKeys: string[];
    canariesPerEpoch: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env, { errorMap: readableIssue });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => settingProblem(String(i.path[0]), env, i.message));
    const [first, ...rest] = problems;
    throw new ConfigError(first ?? 'invalid configuration in the environment', {
      details: rest.length ? rest.join('\n') : undefined,
    });
  }
  const e = parsed.data;
  return {
    redisUrl: e.REDIS_URL,
    queuePrefix: e.VIGIL_QUEUE_PREFIX,
    neo4j: {
      uri: e.NEO4J_URI,
      user: e.NEO4J_USER,
      password: e.NEO4J_PASSWORD,
      database: e.NEO4J_DATABASE,
      httpPort: e.NEO4J_HTTP_PORT,
      pagecache: e.NEO4J_PAGECACHE,
      heap: e.NEO4J_HEAP,
      cds: e.VIGIL_NEO4J_CDS === '1',
    },
    dataDir: path.resolve(e.VIGIL_DATA_DIR),
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      keys: e.VIGIL_API_KEYS.split(',')
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => ({ role: p.slice(0, p.indexOf(':')) as ApiRole, key: p.slice(p.indexOf(':') + 1) })),
      readsNeedKey: e.VIGIL_API_READS_NEED_KEY === 'true',
      introspection: e.VIGIL_API_INTROSPECTION,
      admission: {
        costBudget: e.VIGIL_API_COST_BUDGET,
        costWindowSeconds: e.VIGIL_API_COST_WINDOW_S,
        expensiveCost: e.VIGIL_API_EXPENSIVE_COST,
        expensiveSlots: e.VIGIL_API_EXPENSIVE_SLOTS,
        expensiveQueue: e.VIGIL_API_EXPENSIVE_QUEUE,
        expensiveNeo4jCalls: e.VIGIL_API_EXPENSIVE_NEO4J_CALLS,
        expensiveRest: e.VIGIL_API_EXPENSIVE_REST,
        neo4jCallsPerRequest: e.VIGIL_API_NEO4J_CALLS_PER_REQUEST,
      },
    },
    metricsPort: e.METRICS_PORT,
    ingest: { concurrency: e.INGEST_CONCURRENCY, batchSize: e.INGEST_BATCH_SIZE },
    logLevel: e.LOG_LEVEL,
    subtensor: {
      url: e.SUBTENSOR_URL,
      specPath: path.resolve(e.SUBTENSOR_SPEC),
      devBlocks: e.SUBTENSOR_DEV_BLOCKS === 'true',
    },
    patrol: {
      hotkeyUri: e.PATROL_HOTKEY_URI,
      netuid: e.PATROL_NETUID,
      window: e.PATROL_WINDOW,
      depth: e.PATROL_DEPTH,
      timeoutMs: e.PATROL_TIMEOUT_MS,
      roundIntervalMs: e.PATROL_ROUND_INTERVAL_MS,
      rounds: e.PATROL_ROUNDS,
      minerDelayMs: e.PATROL_MINER_DELAY_MS,
      ethRpcUrl: e.PATROL_ETH_RPC_URL,
      ethRecentBlocks: e.PATROL_ETH_RECENT_BLOCKS,
      trail: {
        maxTargets: e.PATROL_TRAIL_MAX_TARGETS,
        lookbackBlocks: e.PATROL_TRAIL_LOOKBACK_BLOCKS,
        openMs: e.PATROL_TRAIL_OPEN_MS,
        pollMs: e.PATROL_TRAIL_POLL_MS,
        timeoutMs: e.PATROL_TRAIL_TIMEOUT_MS,
      },
    },
    ethereum: {
      rpcUrl: e.ETH_RPC_URL,
      wsUrl: e.ETH_WS_URL,
      chainId: e.ETH_CHAIN_ID,
      hardfork: e.ETH_HARDFORK,
    },
    defense: {
      minerHotkeyUri: e.DEFENSE_MINER_HOTKEY_URI,
      minerConcurrency: e.DEFENSE_MINER_CONCURRENCY,
      enginePool: e.DEFENSE_ENGINE_POOL,
      validatorId: e.DEFENSE_VALIDATOR_ID,
      minersPerTx: e.DEFENSE_MINERS_PER_TX,
      threshold: e.DEFENSE_CONSENSUS,
      deadlineMs: e.DEFENSE_DEADLINE_MS,
      registryRefreshMs: e.DEFENSE_REGISTRY_REFRESH_MS,
      guardianKey: e.DEFENSE_GUARDIAN_KEY,
      pauseBumpBps: e.DEFENSE_PAUSE_BUMP_BPS,
      pauseMaxFeeGwei: e.DEFENSE_PAUSE_MAX_FEE_GWEI,
      pauseGas: e.DEFENSE_PAUSE_GAS,
      webhookSecret: e.DEFENSE_WEBHOOK_SECRET,
      telegram: { token: e.DEFENSE_TELEGRAM_BOT_TOKEN, baseUrl: e.DEFENSE_TELEGRAM_API_URL },
      epochMs: e.DEFENSE_EPOCH_MS,
      weightShare: e.DEFENSE_WEIGHT_SHARE,
      canaryKeys: e.DEFENSE_CANARY_KEYS.split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
      canariesPerEpoch: e.DEFENSE_CANARIES_PER_EPOCH,
    },
  };
}

/**
 * The demo prints its own progress lines, so chopsticks' per-block logs are quieted unless a level
 * was asked for. chopsticks reads LOG_LEVEL once, when first imported: bin/quietChain.ts calls this
 * before the CLI's modules load.
 */
export function quietChainLogsForDemo(argv: string[], env: NodeJS.ProcessEnv = process.env): void {
  if (argv[2] === 'demo' && !env.LOG_LEVEL) env.LOG_LEVEL = 'warn';
}

/** zod's messages in words a person setting a variable acts on ("received nan" is not one). */
const readableIssue: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case 'invalid_type':
      return { message: issue.expected === 'number' ? 'expected a number' : `expected a ${issue.expected}` };
    case 'not_multiple_of':
      return { message: `expected a multiple of ${issue.multipleOf}` };
    case 'too_small':
      return {
        message: `expected ${issue.type === 'number' ? 'a number' : 'a value'} ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`,
      };
    case 'too_big':
      return {
        message: `expected ${issue.type === 'number' ? 'a number' : 'a value'} ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`,
      };
    case 'invalid_enum_value':
      return { message: `expected one of ${issue.options.join(', ')}` };
    default:
      return { message: ctx.defaultError };
  }
};

/**
 * One line per bad setting: its name, the value (masked when secret) and what is expected.
 * Integer checks say "a whole number" and ranges read as one, e.g. "a whole number from 1 to 65535".
 */
function settingProblem(name: string, env: NodeJS.ProcessEnv, message: string): string {
  const raw = env[name] ?? '';
  const shown = (SECRET_SETTINGS as readonly string[]).includes(name)
    ? '(value hidden)'
    : (URL_SETTINGS as readonly string[]).includes(name)
      ? `"${redactUrl(raw)}"`
      : `"${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}"`;
  return `${name}=${shown} is invalid: ${message}. Fix ${name} (see README, Configuration) or unset it for the default.`;
}
