// The figures each benchmark process reports (run-peer.ts) and the report renders (report.ts).
import type { ParkedSummary, ProcessCost } from './measure.js';
import type { LatencySummary } from './stats.js';

export interface SpeedFigures {
  peer: string;
  isolation: string;
  trivial: LatencySummary & { cost: ProcessCost };
  /** The part of the trivial handler's latency the sandbox reports as its own execution time. */
  trivialEngine?: LatencySummary;
  throughput: { executionsPerSecond: number; concurrency: number; threads: number };
  compute: Record<string, LatencySummary>;
}

export interface ParkedFigures {
  peer: string;
  parked: ParkedSummary;
}

export interface VersusFigures {
  peer: string;
  /**
   * Per compute handler, the bridge and the peer run alternately in one process: median wall time
   * and median CPU time (user + system, every thread) of one execution. On a shared machine the
   * CPU time is the steadier figure: waiting for a core inflates wall time only.
   */
  versus: Record<string, { bridgeUs: number; peerUs: number; bridgeCpuUs: number; peerCpuUs: number }>;
}

/** An optional peer that could not be loaded on this machine, and why. */
export interface Unavailable {
  peer: string;
  unavailable: string;
}
