// Entry point: read the configuration, start the kernel, stop it gracefully on SIGTERM/SIGINT.

import { ConfigError, loadConfig } from './config.js';
import { type Kernel, startKernel } from './kernel.js';
import { createLogger } from './logger.js';
import { createBridgeSandbox } from './sandbox/bridge.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

let kernel: Kernel | undefined;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (kernel === undefined) {
      // Still starting: nothing has been accepted yet, so there is nothing to drain or flush.
      logger.info({ signal }, 'stopped before start-up finished');
      process.exit(0);
    }
    kernel.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

try {
  kernel = await startKernel({ config, logger, createSandbox: createBridgeSandbox });
} catch (error) {
  logger.fatal({ err: error }, 'the kernel could not start');
  process.exit(1);
}
