import { jestConfig } from '../jest.config.base.js';

// The suite drives the real native module: handlers that hit the timeout or the memory cap take
// real wall time, so the per-test budget is generous. Two workers match the reference machine.
export default jestConfig({
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/bench/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/test/tsconfig.json', diagnostics: false }],
  },
  testTimeout: 60_000,
  maxWorkers: 2,
  watchdog: { fileMinutes: 15 },
});
