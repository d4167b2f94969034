import type { BenchHandler } from '../handlers.js';

/** Runs one prepared handler once, in a fresh sandbox unless the peer says otherwise. */
export type Execute = () => Promise<unknown>;

/** Handlers parked on a pending host promise, and how to let them finish. */
export interface Parked {
  release(): Promise<void>;
}

/** One sandbox implementation under benchmark. */
export interface Peer {
  readonly name: string;
  /** What "fresh per execution" means for this peer, printed beside its figures. */
  readonly isolation: string;
  /** Whether each execution starts from a clean sandbox (the targets compare only those). */
  readonly freshPerExecution: boolean;
  /** Compiles what can be compiled ahead of time and returns a function that runs it once. */
  prepare(handler: BenchHandler): Promise<Execute>;
  /** Leaves `count` handlers suspended on a host call, each in its own sandbox. */
  park(count: number): Promise<Parked>;
  /** Time the sandbox itself reports per execution, when it reports one (the bridge's metrics). */
  readonly engineDurationsUs?: number[];
  close(): Promise<void>;
}

export const PEER_NAMES = ['bridge', 'quickjs-emscripten', 'quickjs-wasi', 'node-vm', 'isolated-vm'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** Peers that may be missing on a machine: the benchmark notes their absence and goes on. */
export function isOptionalPeer(name: PeerName): boolean {
  return name === 'isolated-vm';
}

export function isPeerName(name: string): name is PeerName {
  return (PEER_NAMES as readonly string[]).includes(name);
}

/** Loads a peer by name. `instances` sizes pools for peers that have one (the bridge). */
export async function loadPeer(name: PeerName, instances = 10): Promise<Peer> {
  switch (name) {
    case 'bridge':
      return (await import('./bridge.js')).createBridgePeer(instances);
    case 'quickjs-emscripten':
      return (await import('./quickjs-emscripten.js')).createQuickJsEmscriptenPeer();
    case 'quickjs-wasi':
      return (await import('./quickjs-wasi.js')).createQuickJsWasiPeer();
    case 'node-vm':
      return (await import('./node-vm.js')).createNodeVmPeer();
    case 'isolated-vm':
      return (await import('./isolated-vm.js')).createIsolatedVmPeer();
  }
}
