/**
 * The layering rules, checked in CI (`npm run depcheck`). Dependencies point one way:
 *   src/ports (leaf: the shared kernel and every port)
 *     <- src/core (the engine: depends on ports, never on concrete stores)
 *     <- src/<stores and services> (implement ports; never import the core)
 *     <- src/app.ts, src/main.ts (the one composition root)
 *     <- adapters/<platform> (platform I/O; never each other)
 * and nothing in src/ or adapters/ reaches into test/.
 */
const infra = '^src/(tenancy|memory|personas|channels|usage|audit|delivery|limits|llm|retrieval|db|security|http|admin|governance)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle means two modules cannot be understood (or tested) apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ports-are-a-leaf',
      comment: 'src/ports is the shared kernel: it must not depend on anything else of the project.',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { path: '^(src|adapters|test)/', pathNot: '^src/ports/' },
    },
    {
      name: 'core-depends-on-ports-only',
      comment: 'The engine sees stores and services through src/ports; the composition root wires the concrete ones.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: `${infra}|^src/(app|main|config)\\.ts$` },
    },
    {
      name: 'services-do-not-import-the-core',
      comment: 'Stores and services implement ports; the core calls them, never the reverse.',
      severity: 'error',
      from: { path: infra },
      to: { path: '^src/core/' },
    },
    {
      name: 'only-the-root-wires',
      comment: 'src/app.ts and src/main.ts are the composition root; nothing else imports them.',
      severity: 'error',
      from: { path: '^(src|adapters)/', pathNot: '^src/(app|main)\\.ts$|^src/admin/cli\\.ts$|^adapters/console/cli\\.ts$' },
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'src-is-platform-neutral',
      comment: 'Only the composition root may reach the platform adapters.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^adapters/|^node_modules/(@slack|discord\\.js|@discordjs)/' },
    },
    {
      name: 'adapters-are-independent',
      comment: 'A platform adapter never imports another platform adapter.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/' },
      to: { path: '^adapters/', pathNot: '^adapters/$1/' },
    },
    {
      name: 'production-never-imports-tests',
      comment: 'Fakes and helpers live under test/ and are never used by production code.',
      severity: 'error',
      from: { path: '^(src|adapters)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
