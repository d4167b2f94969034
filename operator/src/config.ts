// Operator configuration from the environment: validated once, defaults applied, then frozen.
import { hostname } from 'node:os';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_KERNEL_IMAGE = 'localhost/nexus/workspace-kernel:0.1.0';
/** The managed store's image when neither the spec nor STORE_IMAGE names one: upstream Redis 7. */
export const DEFAULT_STORE_IMAGE = 'docker.io/library/redis:7.2';

export interface OperatorConfig {
  /** Path of a kubeconfig file; absent means in-cluster credentials. */
  kubeconfig?: string;
  /** Namespace to watch; '' watches every namespace. */
  watchNamespace: string;
  logLevel: LogLevel;
  kernelImage: string;
  storeImage: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  identity: string;
  resyncPeriodSeconds: number;
  maxConcurrentReconciles: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.problems.push(`${name}=${JSON.stringify(value)} must be true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}=${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  dnsName(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} must be a lowercase DNS name`);
    }
    return value;
  }
}

export function loadConfig(
  env: Env,
  defaultIdentity = `${hostname()}-${process.pid}`,
): Readonly<OperatorConfig> {
  const r = new Reader(env);
  const watchNamespace = r.raw('WATCH_NAMESPACE') ?? '';
  if (watchNamespace !== '' && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(watchNamespace)) {
    r.problems.push(`WATCH_NAMESPACE=${JSON.stringify(watchNamespace)} must be a namespace name or empty`);
  }
  const config: OperatorConfig = {
    watchNamespace,
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    kernelImage: r.string('KERNEL_IMAGE', DEFAULT_KERNEL_IMAGE),
    storeImage: r.string('STORE_IMAGE', DEFAULT_STORE_IMAGE),
    metricsPort: r.int('METRICS_PORT', 8080, 1, 65535),
    // Off unless asked for (controller-runtime's convention): a process run by hand reconciles at
    // once; config/manager and the chart turn it on for their replicas.
    leaderElect: r.bool('LEADER_ELECT', false),
    leaderElectionNamespace: r.dnsName('LEADER_ELECTION_NAMESPACE', r.raw('POD_NAMESPACE') ?? 'nexus-system'),
    leaderElectionId: r.dnsName('LEADER_ELECTION_ID', 'nexus-operator'),
    leaseDurationSeconds: r.int('LEASE_DURATION_SECONDS', 15, 1, 3600),
    renewDeadlineSeconds: r.int('RENEW_DEADLINE_SECONDS', 10, 1, 3600),
    retryPeriodSeconds: r.int('RETRY_PERIOD_SECONDS', 2, 1, 3600),
    identity: r.string('POD_NAME', defaultIdentity),
    resyncPeriodSeconds: r.int('RESYNC_PERIOD_SECONDS', 300, 1, 86400),
    maxConcurrentReconciles: r.int('MAX_CONCURRENT_RECONCILES', 4, 1, 64),
  };
  const kubeconfig = r.raw('KUBECONFIG');
  if (kubeconfig !== undefined) config.kubeconfig = kubeconfig;
  for (const [name, image] of [
    ['KERNEL_IMAGE', config.kernelImage],
    ['STORE_IMAGE', config.storeImage],
  ] as const) {
    if (/\s/.test(image)) r.problems.push(`${name}=${JSON.stringify(image)} must not contain spaces`);
  }
  if (config.leaderElect) {
    if (config.renewDeadlineSeconds >= config.leaseDurationSeconds) {
      r.problems.push(
        `RENEW_DEADLINE_SECONDS (${config.renewDeadlineSeconds}) must be below LEASE_DURATION_SECONDS (${config.leaseDurationSeconds})`,
      );
    }
    if (config.retryPeriodSeconds >= config.renewDeadlineSeconds) {
      r.problems.push(
        `RETRY_PERIOD_SECONDS (${config.retryPeriodSeconds}) must be below RENEW_DEADLINE_SECONDS (${config.renewDeadlineSeconds})`,
      );
    }
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}
