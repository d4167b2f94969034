// The memory figures of a kernel container's own cgroup, read inside the pod through `kubectl
// exec` (the API server, then the kubelet): what the kernel on the node enforces, not what the
// pod spec asks for. cgroup v1 (memory.limit_in_bytes, max_usage_in_bytes, failcnt) or v2
// (memory.max, memory.peak, the max count of memory.events).
import type { Kubectl } from './cluster.js';

export interface CgroupMemory {
  readonly limitBytes: number;
  /** Highest usage since the container started. */
  readonly peakBytes: number;
  /** How often usage ran into the limit. */
  readonly hitLimit: number;
}

const READ = [
  'cd /sys/fs/cgroup',
  'if [ -f memory/memory.limit_in_bytes ]; then',
  '  cat memory/memory.limit_in_bytes memory/memory.max_usage_in_bytes memory/memory.failcnt',
  'else',
  '  cat memory.max memory.peak; sed -n "s/^max //p" memory.events',
  'fi',
].join('\n');

export async function cgroupMemory(
  kubectl: Kubectl,
  namespace: string,
  pod: string,
  container: string,
): Promise<CgroupMemory> {
  const out = await kubectl.run(['-n', namespace, 'exec', pod, '-c', container, '--', 'sh', '-c', READ]);
  const [limit, peak, hits] = out.trim().split(/\s+/);
  const number = (text: string | undefined, what: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${pod}: the cgroup's ${what} is ${JSON.stringify(text)}`);
    return value;
  };
  return {
    limitBytes: number(limit, 'memory limit'),
    peakBytes: number(peak, 'peak usage'),
    hitLimit: number(hits, 'limit count'),
  };
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a Kubernetes memory quantity ("1Gi", "512Mi", "1e9", "268435456"). */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)([kMGT]i?)?$/.exec(quantity.trim());
  const unit = UNITS[match?.[2] ?? ''];
  if (!match || unit === undefined) throw new Error(`not a memory quantity: ${JSON.stringify(quantity)}`);
  return Math.round(Number(match[1]) * unit);
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
