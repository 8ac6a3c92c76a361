import { readdirSync, readFileSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

const shared = {
  // One database per worker, shared by that worker's files (each test makes its own organization).
  pool: 'forks' as const,
  isolate: false,
  testTimeout: 30_000,
  hookTimeout: 60_000,
}

/**
 * The API suite's SDK-driven files (every file that calls `polarClient`) run twice: through @polar-sh/sdk
 * 0.49.0, and through Polar's SDK 1.x (issue 18; test/sdk-adapter.ts). Found by reading the files, so a new
 * SDK-driven test runs through both without being listed here.
 */
const sdkDriven = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts') && /\bpolarClient\(/.test(readFileSync(`test/${f}`, 'utf8')))
  .map((f) => `test/${f}`)

export default defineConfig({
  test: {
    reporters: ['default'],
    // In the root config, not the projects': one throwaway redis-server per run, shared by both projects.
    globalSetup: ['test/redis-global-setup.ts'],
    projects: [
      { test: { ...shared, name: 'sdk-0.49', include: ['test/**/*.test.ts'] } },
      { test: { ...shared, name: 'sdk-1.x', include: sdkDriven, env: { KASSA_SDK: '1' } } },
    ],
  },
})
