import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (pkg: string, entry = 'index') => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit tests run against sources; multi-process tests in test/ spawn the built dist/.
    // Exactly the package root and the test-only internal path: other subpaths
    // (`@glacis/protocol/command-line`) resolve through the package's exports.
    alias: [
      { find: /^@glacis\/protocol$/, replacement: src('protocol') },
      { find: /^@glacis\/protocol\/internal$/, replacement: src('protocol', 'internal') },
      { find: /^@glacis\/airgap$/, replacement: src('airgap') },
    ],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'protocol', include: ['packages/protocol/**/*.test.ts'] } },
      { extends: true, test: { name: 'party-node', include: ['packages/party-node/**/*.test.ts'] } },
      { extends: true, test: { name: 'coordinator', include: ['packages/coordinator/**/*.test.ts'] } },
      { extends: true, test: { name: 'client', include: ['packages/client/**/*.test.ts'] } },
      // The console's browser modules, under Node's WebCrypto, held against the protocol's own checks.
      { extends: true, test: { name: 'console', include: ['packages/console/**/*.test.ts'] } },
      // Smoke tests of the benchmark scripts: the unit projects never import scripts/.
      { extends: true, test: { name: 'bench', include: ['scripts/bench/**/*.test.ts'], testTimeout: 300_000 } },
      { extends: true, test: { name: 'airgap', include: ['packages/airgap/**/*.test.ts'], testTimeout: 60_000 } },
      {
        extends: true,
        test: {
          name: 'system',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/compose/**', 'test/ha/**', 'test/soak/**', 'test/crash-loop/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // Several coordinator instances on a real PostgreSQL (GLACIS_TEST_DATABASE_URL): `npm run test:ha`.
        // Long (instances SIGKILLed again and again); skips with a one-line reason without a server.
        extends: true,
        test: {
          name: 'ha',
          include: ['test/ha/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // `npm run soak`: minutes of SIGKILLs under load (its own CI step, not part of `npm test`).
        extends: true,
        test: { name: 'soak', include: ['test/soak/**/*.test.ts'], testTimeout: 1_500_000, hookTimeout: 120_000 },
      },
      {
        // SIGKILL loops over every step of a lifecycle operation: minutes, so `npm run test:crash-loop`
        // (and a CI step of its own) runs them; `npm test` skips them with their reason.
        extends: true,
        test: {
          name: 'crash-loop',
          include: ['test/crash-loop/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // docker-compose.yml in a real engine; skips with a one-line reason where there is none.
        extends: true,
        test: { name: 'compose', include: ['test/compose/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 900_000 },
      },
    ],
  },
});
