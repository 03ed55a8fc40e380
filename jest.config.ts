import type { Config } from 'jest';

/** Jest runs our TypeScript through ts-jest in ESM mode (NODE_OPTIONS=--experimental-vm-modules). */
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // A hang detector, not a speed check: a loaded 2-core machine can take many times longer than an idle one.
  testTimeout: 90_000,
  // Three on two cores: the long soak suites (a 3-minute outage) mostly wait, and the rest run beside them.
  maxWorkers: 3,
  testSequencer: '<rootDir>/test/sequencer.cjs',
  // The default report, plus why a skipped file was skipped (the default prints nothing for one).
  reporters: ['default', '<rootDir>/test/skip-reasons-reporter.cjs'],
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.test.ts'],
};

export default config;
