import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import pTimeout from 'p-timeout';
import { ServiceUnavailableError, VigilError } from '../common/errors.ts';
import { type Log, silentLogger } from '../common/logger.ts';
import { freePorts } from '../common/ports.ts';
import { isAlive } from '../common/processes.ts';
import { neo4jBrowserPostConnectCmd } from './neo4jBrowserStyle.ts';

/**
 * Vigil's own Neo4j: the real Neo4j 5.26 Community engine from Maven Central, run by the small Java
 * main in neo4j-server/ (DevServer) in its own JVM, with Bolt, the HTTP server and Neo4j Browser.
 * No Docker, no tarball: `mvn package` fetches the jars, `java` runs them.
 *
 * Files in the Neo4j home directory: data/ and logs/ (Neo4j's), neo4j.log (the JVM's stdout and
 * stderr, appended), neo4j.pid (the JVM's pid while it runs).
 */

const MAIN_CLASS = 'dev.vigil.neo4j.DevServer';
const LAUNCHER_JAR = 'vigil-neo4j-server.jar';
const CDS_ARCHIVE = 'vigil-neo4j.jsa';
const READY_MARK = 'VIGIL_NEO4J_READY';
const ERROR_MARK = 'VIGIL_NEO4J_ERROR';
const INSTALL_HINT = 'Install them with: apt-get install -y openjdk-17-jdk-headless maven';

/** DevServer's exit codes (see DevServer.java). */
const EXIT_USAGE = 2;
const EXIT_PORT_IN_USE = 3;
const EXIT_STORE_LOCKED = 4;

/**
 * The JVM options Neo4j's own launcher passes (neo4j.conf `server.jvm.additional`), less the ones
 * for production tuning (AlwaysPreTouch would make the whole heap resident at once). The add-opens
 * let Neo4j reach file descriptors and direct buffers (else it logs a warning per log file).
 */
const JVM_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:-OmitStackTraceInFastThrow',
  '-XX:+UnlockExperimentalVMOptions',
  '-XX:+TrustFinalNonStaticFields',
  '-XX:+DisableExplicitGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djdk.nio.maxCachedBufferSize=1024',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dlog4j2.disable.jmx=true',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
];

export interface Neo4jServerOptions {
  /** Neo4j home: data/, logs/, neo4j.log, neo4j.pid. One server per directory. */
  homeDir: string;
  boltPort: number;
  httpPort: number;
  /** Page cache size, e.g. '512m' (default). */
  pagecache?: string;
  /** JVM heap (-Xmx), e.g. '1g' (default). */
  heap?: string;
  /** The neo4j-server/ directory (pom.xml, src/). */
  launcherDir: string;
  log: Log;
  /**
   * true: the JVM outlives this Node process (`vigil infra up`); stop it with stopNeo4jByPidFile.
   * false (default): it is tied to this process and shuts down cleanly when this process exits.
   */
  detached?: boolean;
  /** Enables auth: user neo4j gets this password (8+ characters). Default: auth disabled. */
  password?: string;
  /** How long to wait for Bolt, in ms (default 180 000: a cold start on two busy cores can take a minute). */
  startTimeoutMs?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Use (and build once) a class-data sharing archive: starts take about half the time. Default true. */
  cds?: boolean;
}

export interface Neo4jProcess {
  pid: number;
  boltUri: string;
  httpUrl: string;
  browserUrl: string;
  logFile: string;
  /** SIGTERM (clean shutdown: no recovery on the next start), wait, SIGKILL after `timeoutMs` (default 60 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) once the JVM has exited. */
  readonly exited: Promise<number | null>;
}

// ---------------------------------------------------------------------------------------------
// Probing

export type BoltProbe = 'ok' | 'unauthorized' | 'unreachable';

/** Connects to Bolt once: 'ok', 'unauthorized' (a Neo4j answers but refuses the credentials) or 'unreachable'. */
export async function probeBolt(
  uri: string,
  auth?: { user: string; password: string },
  timeoutMs = 2000,
): Promise<BoltProbe> {
  const driver = neo4j.driver(uri, auth ? neo4j.auth.basic(auth.user, auth.password) : undefined, {
    connectionTimeout: timeoutMs,
    connectionAcquisitionTimeout: timeoutMs,
    maxConnectionPoolSize: 1,
    logging: { level: 'error', logger: () => {} },
  });
  try {
    await pTimeout(driver.verifyConnectivity(), { milliseconds: timeoutMs + 500 });
    return 'ok';
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return code.startsWith('Neo.ClientError.Security.') ? 'unauthorized' : 'unreachable';
  } finally {
    await driver.close().catch(() => {});
  }
}

/** True when a Neo4j answers Bolt at `uri` and accepts `auth` (none when omitted). */
export async function isBoltReachable(
  uri: string,
  auth?: { user: string; password: string },
  timeoutMs = 2000,
): Promise<boolean> {
  return (await probeBolt(uri, auth, timeoutMs)) === 'ok';
}

/** The Neo4j Browser address that connects to `boltPort` on its own. */
export function neo4jBrowserUrl(host: string, httpPort: number, boltPort: number, withAuth = false): string {
  const dbms = withAuth ? `neo4j://neo4j@${host}:${boltPort}` : `neo4j://${host}:${boltPort}`;
  return `http://${host}:${httpPort}/browser/?dbms=${dbms}&preselectAuthMethod=${withAuth ? 'NATIVE' : 'NO_AUTH'}`;
}

// ---------------------------------------------------------------------------------------------
// Building the launcher

interface LauncherPaths {
  dir: string;
  target: string;
  jar: string;
  lib: string;
  stamp: string;
  cds: string;
  cdsStamp: string;
  lock: string;
}

function launcherPaths(launcherDir: string): LauncherPaths {
  const dir = path.resolve(launcherDir);
  const target = path.join(dir, 'target');
  return {
    dir,
    target,
    jar: path.join(target, LAUNCHER_JAR),
    lib: path.join(target, 'lib'),
    stamp: path.join(target, 'lib', '.vigil-pom-sha256'),
    cds: path.join(target, CDS_ARCHIVE),
    cdsStamp: path.join(target, `${CDS_ARCHIVE}.stamp`),
    lock: path.join(target, '.vigil-build-lock'),
  };
}

/**
 * Builds neo4j-server/ with Maven when needed: the launcher jar or target/lib is missing, pom.xml
 * changed since the jars were copied, or a source file is newer than the jar. The first build
 * downloads ~140 MB from Maven Central. Then (unless `cds` is false) makes the class-data sharing
 * archive once per build with one short training run of the server. Safe to call from several
 * processes at once: they take turns.
 */
export async function buildLauncher(
  launcherDir: string,
  log: Log,
  opts: { cds?: boolean } = {},
): Promise<void> {
  const p = launcherPaths(launcherDir);
  if (!(await exists(path.join(p.dir, 'pom.xml')))) {
    throw new VigilError(`no pom.xml in ${p.dir}`, {
      details: 'launcherDir must be the neo4j-server/ directory.',
    });
  }
  const javaMajor = await javaVersion();
  if (javaMajor < 17) {
    throw new VigilError(`Java ${javaMajor} is too old for Neo4j 5.26 (needs 17 or 21)`, {
      details: INSTALL_HINT,
    });
  }
  const wantCds = opts.cds ?? true;
  if (!(await needsBuild(p)) && (!wantCds || (await cdsFresh(p)))) return;

  await mkdir(p.target, { recursive: true });
  await withLock(p.lock, log, async () => {
    if (await needsBuild(p)) await mavenPackage(p, log);
    if (wantCds && !(await cdsFresh(p))) {
      try {
        await trainCds(p, log);
      } catch (err) {
        // Only a speed-up: a failed training run must not stop Neo4j from starting.
        log.warn(
          { err: (err as Error).message.split('\n')[0] },
          'class-data sharing archive not made: starts will be slower',
        );
      }
    }
  });
}

async function needsBuild(p: LauncherPaths): Promise<boolean> {
  const jar = await stat(p.jar).catch(() => null);
  if (!jar) return true;
  const stamp = await readFile(p.stamp, 'utf8').catch(() => '');
  if (stamp.trim() !== (await pomHash(p))) return true;
  const newest = await newestMtime(path.join(p.dir, 'src'));
  return newest > jar.mtimeMs;
}

async function pomHash(p: LauncherPaths): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path.join(p.dir, 'pom.xml')))
    .digest('hex');
}

async function mavenPackage(p: LauncherPaths, log: Log): Promise<void> {
  const libStamp = await readFile(p.stamp, 'utf8').catch(() => '');
  const hash = await pomHash(p);
  if (libStamp.trim() !== hash) {
    // A changed pom may change versions: stale jars left in target/lib would end up on the class path.
    await rm(p.lib, { recursive: true, force: true });
    await rm(p.cds, { force: true });
  }
  const firstTime = !(await exists(p.lib));
  log.info(
    `building the Neo4j launcher with Maven${firstTime ? ' (first build: ~140 MB of jars, from Maven Central unless ~/.m2 has them)' : ''}`,
  );
  const t0 = Date.now();
  const { code, output } = await runCapture(
    'mvn',
    ['-q', '-B', 'package', '-DskipTests'],
    p.dir,
    20 * 60_000,
  );
  if (code === 'ENOENT') {
    throw new VigilError('Maven (mvn) is not installed: it builds the Neo4j launcher', {
      details: INSTALL_HINT,
    });
  }
  if (code !== 0) {
    throw new VigilError(`building the Neo4j launcher failed (mvn exit ${code})`, {
      details: `in ${p.dir}:\n${tail(output, 40)}`,
    });
  }
  if (!(await exists(p.jar))) {
    throw new VigilError(`mvn package ran but ${p.jar} is missing`, { details: tail(output, 40) });
  }
  await writeFile(p.stamp, `${hash}\n`);
  log.info({ seconds: seconds(t0) }, 'Neo4j launcher built');
}

// ---------------------------------------------------------------------------------------------
// Class-data sharing: a JVM archive of the ~15 000 classes Neo4j loads at start, made by one
// training run after each build. Java 17 checks that the jars did not change and silently runs
// without the archive when they did, so a stale archive costs speed, never correctness.

async function cdsKey(p: LauncherPaths): Promise<string> {
  const parts = [JVM_FLAGS.join(' '), await javaVersionString()];
  const jar = await stat(p.jar).catch(() => null);
  parts.push(`${jar?.size}:${jar?.mtimeMs}`);
  parts.push((await readFile(p.stamp, 'utf8').catch(() => '')).trim());
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

async function cdsFresh(p: LauncherPaths): Promise<boolean> {
  if (!(await exists(p.cds))) return false;
  const stamp = await readFile(p.cdsStamp, 'utf8').catch(() => '');
  return stamp.trim() === (await cdsKey(p));
}

async function trainCds(p: LauncherPaths, log: Log): Promise<void> {
  log.info('making the class-data sharing archive (one training start of Neo4j, once per build)');
  const t0 = Date.now();
  const home = await mkdtemp(path.join(os.tmpdir(), 'vigil-neo4j-cds-'));
  const tmpArchive = `${p.cds}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const [boltPort, httpPort] = await freePorts(2);
  try {
    const server = await spawnServer(
      {
        homeDir: home,
        boltPort: boltPort!,
        httpPort: httpPort!,
        launcherDir: p.dir,
        pagecache: '64m',
        heap: '512m',
        log: silentLogger,
        detached: false,
      },
      { cdsFlag: `-XX:ArchiveClassesAtExit=${tmpArchive}`, writePidFile: false },
    );
    try {
      await exerciseServer(server.boltUri, server.httpUrl);
    } finally {
      await server.stop(120_000); // the archive is written while the JVM exits
    }
    // Caught by buildLauncher, which logs it and starts without the archive.
    if (!(await exists(tmpArchive))) throw new Error('the JVM wrote no archive');
    await rename(tmpArchive, p.cds);
    await writeFile(p.cdsStamp, `${await cdsKey(p)}\n`);
    log.info({ seconds: seconds(t0) }, 'class-data sharing archive ready');
  } finally {
    await rm(tmpArchive, { force: true });
    await rm(home, { recursive: true, force: true });
  }
}

/** Runs the kinds of statements Vigil runs, so their classes land in the archive. */
async function exerciseServer(boltUri: string, httpUrl: string): Promise<void> {
  const driver = neo4j.driver(boltUri, undefined, { logging: { level: 'error', logger: () => {} } });
  try {
    const session = driver.session();
    try {
      await session.run(
        'CREATE CONSTRAINT w IF NOT EXISTS FOR (n:Wallet) REQUIRE (n.chain, n.address) IS UNIQUE',
      );
      await session.run('CREATE CONSTRAINT t IF NOT EXISTS FOR ()-[r:TRANSFER]-() REQUIRE r.id IS UNIQUE');
      const rows = Array.from({ length: 50 }, (_, i) => ({
        a: `a${i}`,
        b: `a${(i + 1) % 50}`,
        id: `t${i}`,
        v: i,
      }));
      await session.executeWrite((tx) =>
        tx.run(
          `UNWIND $rows AS r
           MERGE (a:Wallet {chain: 'x', address: r.a}) ON CREATE SET a.firstSeen = timestamp()
           MERGE (b:Wallet {chain: 'x', address: r.b})
           MERGE (a)-[t:TRANSFER {id: r.id}]->(b) ON CREATE SET t.amount = r.v`,
          { rows },
        ),
      );
      await session.executeRead((tx) =>
        tx.run(
          `MATCH p = (a:Wallet {chain: 'x', address: 'a0'})-[:TRANSFER*1..3]->(b)
           RETURN b.address AS address, length(p) AS hops, [r IN relationships(p) | r.amount] AS amounts
           ORDER BY hops LIMIT 10`,
        ),
      );
      await session.run('SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names');
    } finally {
      await session.close();
    }
  } finally {
    await driver.close();
  }
  for (const url of [`${httpUrl}/`, `${httpUrl}/browser/`]) {
    await fetch(url)
      .then((r) => r.arrayBuffer())
      .catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping

/**
 * Starts the launcher's JVM (building it first if needed) and waits until Bolt answers. Writes
 * <homeDir>/neo4j.pid and appends the JVM's output to <homeDir>/neo4j.log. Throws if a server
 * from the pid file still runs for this home, if a port is in use, or on timeout (with the log tail).
 */
export async function startNeo4jServer(opts: Neo4jServerOptions): Promise<Neo4jProcess> {
  await buildLauncher(opts.launcherDir, opts.log, { cds: opts.cds });
  const home = path.resolve(opts.homeDir);
  await mkdir(home, { recursive: true });
  const running = await readLivePid(home);
  if (running) {
    throw new VigilError(`a Neo4j server already runs for ${home} (pid ${running})`, {
      details: `Reuse it, or stop it first (stopNeo4jByPidFile('${home}') or kill -TERM ${running}).`,
    });
  }
  const host = opts.host ?? '127.0.0.1';
  opts.log.info(
    {
      bolt: `${host}:${opts.boltPort}`,
      http: `${host}:${opts.httpPort}`,
      dataDir: home,
      logFile: path.join(home, 'neo4j.log'),
    },
    'starting Neo4j 5.26',
  );
  const p = launcherPaths(opts.launcherDir);
  const useCds = (opts.cds ?? true) && (await cdsFresh(p));
  const server = await spawnServer(opts, {
    cdsFlag: useCds ? `-XX:SharedArchiveFile=${p.cds}` : undefined,
    writePidFile: true,
  });
  opts.log.info({ pid: server.pid, bolt: server.boltUri, browser: server.browserUrl }, 'Neo4j is up');
  return server;
}

async function spawnServer(
  opts: Neo4jServerOptions,
  extra: { cdsFlag?: string; writePidFile: boolean },
): Promise<Neo4jProcess> {
  const p = launcherPaths(opts.launcherDir);
  const home = path.resolve(opts.homeDir);
  const host = opts.host ?? '127.0.0.1';
  const detached = opts.detached ?? false;
  const logFile = path.join(home, 'neo4j.log');
  const pidFile = path.join(home, 'neo4j.pid');
  await mkdir(home, { recursive: true });

  const args = [
    `-Xmx${opts.heap ?? '1g'}`,
    ...JVM_FLAGS,
    ...(extra.cdsFlag ? [extra.cdsFlag, '-Xlog:cds=off,cds+dynamic=off'] : []),
    '-cp',
    `${p.jar}${path.delimiter}${path.join(p.lib, '*')}`,
    MAIN_CLASS,
    '--home',
    home,
    '--listen',
    host,
    '--bolt-port',
    String(opts.boltPort),
    '--http-port',
    String(opts.httpPort),
    '--pagecache',
    opts.pagecache ?? '512m',
    '--browser-post-connect-cmd',
    neo4jBrowserPostConnectCmd(),
    ...(detached ? [] : ['--exit-on-stdin-close']),
  ];
  // The password reaches the JVM only through its environment, never its command line. (spawn skips
  // undefined values, so a NEO4J_PASSWORD meant for clients does not turn auth on by accident.)
  const env: NodeJS.ProcessEnv = { ...process.env, NEO4J_PASSWORD: opts.password || undefined };

  const logStart = (await stat(logFile).catch(() => null))?.size ?? 0;
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('java', args, {
      cwd: home,
      env,
      detached,
      stdio: [detached ? 'ignore' : 'pipe', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new VigilError('Java is not installed: Neo4j runs in a JVM', { details: INSTALL_HINT })
          : err,
      );
    });
    child.once('exit', (code) => resolve(code));
  });
  exited.catch(() => {}); // observed below
  if (detached) child.unref();
  else child.stdin?.on('error', () => {});

  const pid = child.pid;
  if (pid === undefined) {
    await exited; // rejects with the spawn error
    throw new VigilError('could not start java');
  }
  if (extra.writePidFile) await writeFile(pidFile, `${pid}\n`);

  const boltUri = `bolt://${host}:${opts.boltPort}`;
  const httpUrl = `http://${host}:${opts.httpPort}`;
  let exitCode: number | null | undefined;
  exited.then(
    (c) => {
      exitCode = c;
    },
    () => {
      exitCode = -1;
    },
  );

  const stop = async (timeoutMs = 60_000): Promise<void> => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([exited.catch(() => null), timer])) === 'timeout') {
        opts.log.warn({ pid, timeoutMs }, 'Neo4j did not stop in time: killing it');
        child.kill('SIGKILL');
        await exited.catch(() => null);
      }
    }
    if (extra.writePidFile) await removePidFileIf(pidFile, pid);
  };

  const auth = opts.password ? { user: 'neo4j', password: opts.password } : undefined;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 180_000);
  let failure: VigilError | undefined;
  for (;;) {
    await sleep(250);
    const out = await readFrom(logFile, logStart);
    if (exitCode !== undefined) {
      failure = exitFailure(exitCode, out, logFile);
      break;
    }
    if (out.includes(READY_MARK)) {
      if ((await probeBolt(boltUri, auth, 5000)) === 'ok') break;
    }
    if (Date.now() > deadline) {
      failure = new ServiceUnavailableError(
        `Neo4j did not answer on ${boltUri} within ${((opts.startTimeoutMs ?? 180_000) / 1000).toFixed(0)} s`,
        { details: await logTails(logFile, out, home) },
      );
      await stop(30_000);
      break;
    }
  }
  if (failure) {
    if (extra.writePidFile) await removePidFileIf(pidFile, pid);
    throw failure;
  }
  return {
    pid,
    boltUri,
    httpUrl,
    browserUrl: neo4jBrowserUrl(host, opts.httpPort, opts.boltPort, Boolean(opts.password)),
    logFile,
    stop,
    exited,
  };
}

async function logTails(logFile: string, out: string, home: string): Promise<string> {
  const debugLog = path.join(home, 'logs', 'debug.log');
  const debug = tail(await readFrom(debugLog, 0), 15);
  return `Last lines of ${logFile}:\n${tail(out, 30) || '(empty)'}${debug ? `\nLast lines of ${debugLog}:\n${debug}` : ''}`;
}

function exitFailure(code: number | null, out: string, logFile: string): VigilError {
  const errorLine = out
    .split('\n')
    .find((l) => l.includes(ERROR_MARK))
    ?.replace(`${ERROR_MARK} `, '')
    .trim();
  const details = `Last lines of ${logFile}:\n${tail(out, 30)}`;
  if (code === EXIT_PORT_IN_USE) {
    return new VigilError(`Neo4j could not start: ${errorLine ?? 'a port is in use'}`, { details });
  }
  if (code === EXIT_STORE_LOCKED) {
    return new VigilError(`Neo4j could not start: ${errorLine ?? 'the store is locked by another process'}`, {
      details,
    });
  }
  if (code === EXIT_USAGE)
    return new VigilError(`Neo4j launcher refused its options: ${errorLine ?? ''}`, { details });
  return new ServiceUnavailableError(
    `Neo4j exited during start (code ${code})${errorLine ? `: ${errorLine}` : ''}`,
    {
      details,
    },
  );
}

/**
 * Stops the server recorded in <homeDir>/neo4j.pid (SIGTERM, then SIGKILL after `timeoutMs`).
 * Returns false when none ran. Only signals a process that is this launcher for this home.
 */
export async function stopNeo4jByPidFile(homeDir: string, timeoutMs = 60_000): Promise<boolean> {
  const home = path.resolve(homeDir);
  const pidFile = path.join(home, 'neo4j.pid');
  const pid = await readLivePid(home);
  if (!pid) {
    await unlink(pidFile).catch(() => {});
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  await removePidFileIf(pidFile, pid);
  return true;
}

/** The pid in <home>/neo4j.pid if that process is alive and is DevServer for this home; else undefined. */
export async function readLivePid(homeDir: string): Promise<number | undefined> {
  const home = path.resolve(homeDir);
  const text = await readFile(path.join(home, 'neo4j.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline === undefined) return pid; // no /proc: trust the pid file
  const argv = cmdline.split('\0');
  const i = argv.indexOf('--home');
  return argv.includes(MAIN_CLASS) && i >= 0 && path.resolve(argv[i + 1] ?? '') === home ? pid : undefined;
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function removePidFileIf(pidFile: string, pid: number): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  if (Number.parseInt(text.trim(), 10) === pid) await unlink(pidFile).catch(() => {});
}

async function readFrom(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const start = Math.max(offset, size - 1024 * 1024);
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null)) !== null;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const s = await stat(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).catch(
      () => null,
    );
    if (s && s.mtimeMs > newest) newest = s.mtimeMs;
  }
  return newest;
}

let javaVersionCache: Promise<string> | undefined;

/** `java -version`'s version line; throws a VigilError naming the package when java is missing. */
function javaVersionString(): Promise<string> {
  javaVersionCache ??= runCapture('java', ['-version'], process.cwd(), 30_000).then(({ code, output }) => {
    if (code === 'ENOENT') {
      throw new VigilError('Java is not installed: Neo4j runs in a JVM', { details: INSTALL_HINT });
    }
    if (code !== 0) throw new VigilError(`java -version failed (exit ${code})`, { details: output });
    return javaVersionLine(output);
  });
  javaVersionCache.catch(() => {
    javaVersionCache = undefined;
  });
  return javaVersionCache;
}

/**
 * The version line of `java -version`'s output, past what the JVM may print first (`Picked up
 * JAVA_TOOL_OPTIONS: …`, GC log lines), which once read as "Java 0 is too old".
 */
export function javaVersionLine(output: string): string {
  const lines = output.split('\n');
  return lines.find((l) => /version "/.test(l)) ?? lines[0] ?? '';
}

/** The major version in a `javaVersionLine` (1.8 → 8); 0 if there is none. */
export function javaMajor(line: string): number {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(line);
  if (!m) return 0;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

async function javaVersion(): Promise<number> {
  return javaMajor(await javaVersionString());
}

function runCapture(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | 'ENOENT'; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    const keep = (d: Buffer) => {
      output += d.toString('utf8');
      if (output.length > 256 * 1024) output = output.slice(-128 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') resolve({ code: 'ENOENT', output: '' });
      else reject(err);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/**
 * A lock shared by processes: a directory holding the owner's pid. A lock whose owner died is taken
 * over. Waits up to 30 minutes (a cold Maven build plus the training run on a slow machine).
 */
async function withLock<T>(lockDir: string, log: Log, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30 * 60_000;
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, 'pid'), `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''), 10);
      const age = Date.now() - ((await stat(lockDir).catch(() => null))?.mtimeMs ?? 0);
      if ((Number.isInteger(owner) && !isAlive(owner)) || (!Number.isInteger(owner) && age > 10_000)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new VigilError(`timed out waiting for the build lock ${lockDir}`);
      if (!announced) {
        log.info({ pid: owner }, 'waiting for another process that is building the Neo4j launcher');
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

const seconds = (t0: number): number => Number(((Date.now() - t0) / 1000).toFixed(1));
