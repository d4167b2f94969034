// Shared jest settings for every workspace: TypeScript sources run as native ESM through ts-jest.
// Type errors are reported by `tsc --noEmit` (make lint), so tests transpile only, which keeps them fast.

/** @param {{ testMatch?: string[], testTimeout?: number, maxWorkers?: number | string }} [overrides] */
export function jestConfig(overrides = {}) {
  return {
    testEnvironment: 'node',
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
