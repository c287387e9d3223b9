import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests start real kernels; a cold ipykernel start takes a few seconds on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more parallel kernels than this only makes every test slower.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
