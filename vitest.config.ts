import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Interop and socket tests bind loopback ports; files run in parallel workers.
    pool: 'forks',
  },
});
