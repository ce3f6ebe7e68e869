import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * patches/ fixes neo4j-driver's two inner packages at one version. A lock refresh that moved them
 * would drop (or half-apply) the fixes silently: package.json pins the driver exactly and overrides
 * the two inner packages to the patched version; this checks pins, patches and the install agree.
 */
const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>;
  overrides?: Record<string, string>;
};
const patches = readdirSync(new URL('patches/', root))
  .map((f) => /^(neo4j-driver[a-z-]*)\+(\d+\.\d+\.\d+)\.patch$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map(([, name, version]) => ({ name: name!, version: version! }));
const installed = (name: string) =>
  (createRequire(new URL('package.json', root))(`${name}/package.json`) as { version: string }).version;

describe('neo4j-driver pin', () => {
  it('finds both driver patches', () => {
    expect(patches.map((p) => p.name).sort()).toEqual(['neo4j-driver-bolt-connection', 'neo4j-driver-core']);
  });

  it.each(patches)('pins $name to the patched $version in overrides, and that is what is installed', (p) => {
    expect(pkg.overrides?.[p.name]).toBe(p.version);
    expect(installed(p.name)).toBe(p.version);
  });

  it('pins neo4j-driver itself exactly, at the patched version', () => {
    const version = patches[0]!.version;
    expect(pkg.dependencies['neo4j-driver']).toBe(version);
    expect(installed('neo4j-driver')).toBe(version);
  });
});
