// Entry point: `node operator/dist/index.js`.
import { main } from './main.js';

main().catch((err: unknown) => {
  process.stderr.write(
    `nexus-operator: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
