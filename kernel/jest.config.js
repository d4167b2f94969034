import { jestConfig } from '../jest.config.base.js';

// The integration suites start real kernels (and child processes), so they get more time. No file
// takes more than a few minutes even on a cold, busy machine: one past 15 is stuck.
export default jestConfig({ testTimeout: 30_000, watchdog: { fileMinutes: 15 } });
