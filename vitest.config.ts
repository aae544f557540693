import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start real servers on 127.0.0.1 and real databases; two workers fit this 2-core machine.
    maxWorkers: 2,
    env: { OPENAI_AGENTS_DISABLE_TRACING: '1' },
  },
});
