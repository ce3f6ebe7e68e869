#!/usr/bin/env node
// Runs before `npm start` and `npm test` (prestart/pretest), with no dependencies of its own:
// installs the npm packages if they are missing and checks the system programs Vigil starts.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const say = (m) => console.log(`[bootstrap] ${m}`);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`[bootstrap] Node ${process.versions.node} is too old: Vigil needs Node >= 20.19`);
  process.exit(1);
}

// Installed, and since the last change to the lockfile (a pull may bring new packages or patches/).
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lockfile = path.join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(lockfile).mtimeMs > statSync(installed).mtimeMs) {
  // npm ci installs exactly what the lockfile pins and never rewrites it (npm install may).
  say('installing npm packages (npm ci, from package-lock.json)');
  try {
    execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(
      '[bootstrap] npm ci failed. If package.json changed without package-lock.json, update the lock as README "Adding a dependency" says.',
    );
    process.exit(1);
  }
}

// `npm test` also drives Debian's chromium (GraphiQL and Neo4j Browser tests, test/browser.ts);
// a VIGIL_CHROMIUM of the user's own is used as it is.
const forTests = process.env.npm_lifecycle_event === 'pretest' && !process.env.VIGIL_CHROMIUM;
const missing = [
  ['redis-server', 'redis-server'],
  ['java', 'openjdk-17-jdk-headless'],
  ['mvn', 'maven'],
  ...(forTests ? [['chromium', 'chromium']] : []),
].filter(([cmd]) => !has(cmd));
if (missing.length > 0) {
  const pkgs = missing.map(([, pkg]) => pkg).join(' ');
  const canApt = process.getuid?.() === 0 && has('apt-get');
  if (!canApt) {
    console.error(
      `[bootstrap] missing: ${missing.map(([c]) => c).join(', ')}. Install with: sudo apt-get install -y ${pkgs}`,
    );
    console.error(
      '[bootstrap] (or point REDIS_URL / NEO4J_URI at running servers, or use docker compose up)',
    );
    process.exit(1);
  }
  say(`installing ${pkgs} with apt-get`);
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs}`, {
    stdio: 'inherit',
  });
}
