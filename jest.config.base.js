// Shared jest settings for every workspace: TypeScript sources run as native ESM through ts-jest.
// Type errors are reported by `tsc --noEmit` (make lint), so tests transpile only, which keeps them fast.
//
// No run can hang: jest.environment.js stops whatever a test file left running (kernels, Redis
// servers, child processes, sockets) when the file ends, failed or not, and kills leftover
// children by PID on exit; jest.watchdog.js fails the run loudly, naming what is still running,
// when one file runs past `watchdog.fileMinutes` or the process outlives the run. The Makefile
// puts a `timeout` around each jest invocation as the last resort.

import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/**
 * @param {{ testMatch?: string[], testTimeout?: number, maxWorkers?: number | string,
 *   watchdog?: { fileMinutes?: number, exitGraceSeconds?: number } }} [overrides]
 */
export function jestConfig({ watchdog = {}, ...overrides } = {}) {
  return {
    testEnvironment: here('./jest.environment.js'),
    reporters: ['default', [here('./jest.watchdog.js'), watchdog]],
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
    },
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    ...overrides,
  };
}
