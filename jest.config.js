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
};
