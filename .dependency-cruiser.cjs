// The dependency rule (`npm run deps`): modules depend only on modules in the same or a lower layer,
// and the planner core (src/balancer/core) on nothing but itself and Node.js. Layers, lowest first;
// a module is a folder directly under src/.
const LAYERS = [
  ['common', 'config', 'database', 'secrets', 'observability'],
  ['events'],
  ['auth'],
  ['inventory'],
  ['replicas'],
  ['rules'],
  ['samples'],
  ['policies'],
  ['live-migration'],
  ['balancer'],
  ['recommendations'],
  ['passes'],
  ['maintenance'],
  ['connectors', 'cluster-metrics', 'simulator', 'health', 'dashboard'],
];

const folder = (names) => `^src/(${names.join('|')})/`;
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-import-from-${layer.join('-')}`,
  comment: `${layer.join(', ')} sit in layer ${i}: they may not import a module of a higher layer`,
  severity: 'error',
  from: { path: folder(layer) },
  // The planner core is a pure library below every layer: any module may use it.
  to: { path: folder(LAYERS.slice(i + 1).flat()), pathNot: '^src/balancer/core/' },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'planner-core-is-pure',
      comment: 'src/balancer/core is the pure planner: it imports only itself and Node.js built-ins',
      severity: 'error',
      from: { path: '^src/balancer/core/' },
      to: { pathNot: ['^src/balancer/core/', '^node:', '^(fs|path|os|util|crypto|assert)$'] },
    },
    {
      name: 'planner-core-no-framework',
      comment: 'no NestJS, TypeORM or database driver in the planner core',
      severity: 'error',
      from: { path: '^src/balancer/core/' },
      to: { path: 'node_modules/(@nestjs|typeorm|sqlite3|pg)/' },
    },
    {
      name: 'no-module-cycle',
      comment: 'modules import each other in one direction only',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { pathNot: '^src/([^/]+)/' } },
    },
    {
      name: 'src-not-on-tests',
      comment: 'shipped code does not import tests, test helpers or tools',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|tools|bench)/|\\.spec\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
