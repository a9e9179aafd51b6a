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
          // Randomised comparisons run thousands of generated spans or requests: one takes 3.8 s
          // alone on a 2-core machine and ran past vitest's 5 s default (5.6 s) in a CI-like run.
          // A time limit is not what they test; a hung test still fails.
          testTimeout: 30_000,
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
