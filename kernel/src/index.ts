// Entry point: read the configuration, start the kernel, stop it gracefully on SIGTERM/SIGINT.

import { ConfigError, loadConfig } from './config.js';
import { startKernel } from './kernel.js';
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

try {
  const kernel = await startKernel({ config, logger, createSandbox: createBridgeSandbox });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      kernel.shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  logger.fatal({ err: error }, 'the kernel could not start');
  process.exit(1);
}
