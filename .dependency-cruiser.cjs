/**
 * Layer rules (docs/architecture.md "Layers"), checked by `npm run lint` and so by `.ci/run`:
 *
 *   common ← protocol ← chains, graph ← queues ← services ← cli ← bin
 *
 * An arrow points from what is used to its user: services may import queues, never the reverse.
 * infra (starting Redis and Neo4j) sits beside services. Tests, benches and dev/ may import
 * production code; production code never imports them statically (`vigil demo` loads dev/ with a
 * dynamic import(), so a production install without devDependencies still runs every service).
 */
const layer = (name, mayNotUse, comment) => ({
  name: `layer-${name}`,
  severity: 'error',
  comment,
  from: { path: `^${name}/`, pathNot: '[.]test[.]ts$' },
  to: { path: `^(${mayNotUse.join('|')})/` },
});

/** Dev-only code: the dev/ folder (demo, local chains, seeder, anvil, solc, test kits), tests, benches. */
const DEV = ['^dev/', '^test/', '^bench/', '[.]test[.]ts$'];

module.exports = {
  forbidden: [
    layer(
      'common',
      ['protocol', 'chains', 'graph', 'queues', 'services', 'infra', 'cli', 'bin'],
      'common is the base: it imports no other layer',
    ),
    layer(
      'protocol',
      ['chains', 'graph', 'queues', 'services', 'infra', 'cli', 'bin'],
      'the wire contract depends on common alone, so miners can read it whole',
    ),
    layer(
      'chains',
      ['graph', 'queues', 'services', 'infra', 'cli', 'bin'],
      'chain adapters know nothing of storage or services',
    ),
    layer(
      'graph',
      ['chains', 'queues', 'services', 'infra', 'cli', 'bin'],
      'graph never imports queues or services',
    ),
    layer('queues', ['services', 'infra', 'cli', 'bin'], 'queues carry messages; services use them'),
    layer('services', ['infra', 'cli', 'bin'], 'services take their dependencies; cli wires them'),
    layer(
      'infra',
      ['services', 'cli', 'bin'],
      'infra starts what Vigil depends on; it may probe with queues/ connections',
    ),
    layer('cli', ['bin'], 'bin is the entry point'),
    layer(
      'console',
      [
        'common',
        'protocol',
        'chains',
        'graph',
        'queues',
        'services',
        'infra',
        'cli',
        'bin',
        'dev',
        'test',
        'bench',
      ],
      'the web console runs in a browser and reads Vigil through the GraphQL API alone',
    ),
    {
      name: 'console-is-browser-code',
      severity: 'error',
      comment:
        'the console is bundled for the browser (services/api/console.ts builds it by path); nothing imports it',
      from: { pathNot: '^console/' },
      to: { path: '^console/' },
    },
    {
      name: 'no-dev-in-production',
      severity: 'error',
      comment: 'production code never imports tests, benches, the demo or its local chains',
      from: { pathNot: DEV },
      to: { path: DEV, dependencyTypesNot: ['dynamic-import', 'type-import', 'type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle ties modules that should stand apart',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|neo4j-server|scripts|contracts)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
