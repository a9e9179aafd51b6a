import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const workspaces = ['model', 'runtime', 'kafka', 'storage', 'sampler', 'tracer', 'logger-agent', 'collector', 'ui-proxy', 'devstack', 'demo'];
// Tests import workspaces from source, so a unit run needs no build.
const alias = Object.fromEntries(workspaces.map((w) => [`@pintrace/${w}`, fileURLToPath(new URL(`./${w}/src/index.ts`, import.meta.url))]));

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['*/test/**/*.test.ts'],
          exclude: ['node_modules/**', 'test/**', 'bench/**'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/setup/devstack.ts'],
          // One devstack serves every file, and fault tests stop servers: one file at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
