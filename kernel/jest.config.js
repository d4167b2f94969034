import { jestConfig } from '../jest.config.base.js';

// The integration suites start real kernels (and child processes), so they get more time.
export default jestConfig({ testTimeout: 30_000 });
