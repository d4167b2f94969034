// What the HTTP layer needs from the rest of the kernel, passed in (no module-level singletons).

import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth.js';
import type { KernelConfig } from '../config.js';
import type { KernelMetrics } from '../metrics.js';
import type { Executor } from '../panels/executor.js';
import type { Feeds } from '../panels/feed.js';
import type { PanelRegistry } from '../panels/registry.js';
import type { Sandbox } from '../sandbox/types.js';
import type { SchemaValidator } from '../schemas/validator.js';
import type { KernelStatus } from '../status.js';
import type { PanelLogs, StoreConnection } from '../store/types.js';

export interface HttpContext {
  readonly config: KernelConfig;
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  readonly registry: PanelRegistry;
  readonly executor: Executor;
  readonly schemas: SchemaValidator;
  readonly feeds: Feeds;
  readonly store: Pick<StoreConnection, 'kind' | 'available'> & PanelLogs;
  readonly sandbox: Pick<Sandbox, 'stats' | 'metricsText'>;
  readonly status: KernelStatus;
  readonly verifyToken: TokenVerifier;
  readonly version: string;
  readonly startedAt: number;
  /** Whether a request's Host header names this kernel (hosts.ts). */
  readonly hostAllowed: (host: string | undefined) => boolean;
  /** Throws 503 OVERLOADED while the kernel's unsent answers exceed HTTP_MAX_UNSENT_BYTES_TOTAL. */
  readonly assertResponseRoom: () => void;
  /** The port the WebSocket server listens on (known once it is bound). */
  wsPort(): number;
}
