// Integration tests: the operator process against a real control plane that the global setup
// starts (hack/cluster-up.sh) and the global teardown stops. Run with --runInBand: the files share
// one cluster and one leader-election lease.
import { jestConfig } from '../jest.config.base.js';

export default {
  ...jestConfig({
    testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    testTimeout: 240_000,
    maxWorkers: 1,
    // A file of several 240 s tests on a cold control plane; the global teardown stops the
    // cluster after the run, so the process may outlive it for a while.
    watchdog: { fileMinutes: 30, exitGraceSeconds: 180 },
  }),
  globalSetup: '<rootDir>/test/integration/global-setup.js',
  globalTeardown: '<rootDir>/test/integration/global-teardown.js',
  slowTestThreshold: 120,
};
