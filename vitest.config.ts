import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests start real kernels; a cold ipykernel start takes a few seconds on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file at a time: each e2e test runs clients, routers, a manager and kernels, and
    // two of those at once on two cores starve each other (kernels miss their own time limits).
    maxWorkers: 1,
    reporters: ['default'],
  },
});
