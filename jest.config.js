// ESM mode (NestJS 12 is ESM-only): run with `node --experimental-vm-modules` (npm test does).
export default {
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
    // ESM-only packages that CommonJS dependencies require(): Node >= 20.19 loads them natively,
    // jest before Node 24.9 cannot, so they are compiled to CommonJS for the test run only.
    '/node_modules/content-disposition/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  // 2 cores: two test files at a time, each with its own database.
  maxWorkers: 2,
  testTimeout: 30_000,
  // pg-boss 10's stop leaves a 1 s timer running (offWork polls its stopped workers with delay(1000)
  // from node:timers/promises, which holds the event loop). A worker whose last file closed its app
  // within that second needs up to a second to exit, more than jest's default 500 ms before it kills
  // the worker and warns "A worker process has failed to exit gracefully".
  workerGracefulExitTimeout: 2_000,
};
