// One thread of a single-threaded peer's throughput run (see run-peer.ts).
import { parentPort, workerData } from 'node:worker_threads';

import { trivial } from './handlers.js';
import { measureThroughput } from './measure.js';
import { loadPeer } from './peers/peer.js';
import type { PeerName } from './peers/peer.js';

const { peer: name, durationMs } = workerData as { peer: PeerName; durationMs: number };
const peer = await loadPeer(name);
const execute = await peer.prepare(trivial);
await execute();
const perSecond = await measureThroughput(execute, 1, durationMs);
await peer.close();
parentPort?.postMessage(perSecond);
