// What one HTTP connection may cost the kernel while its client does not read. Node's server runs
// every request it parses at once, however many a client pipelines, and buffers each response
// until the socket takes it: a client that pipelines and never reads makes the kernel hold every
// answer. Here each connection has HTTP_PIPELINE_DEPTH requests handled at once, the next ones
// wait (undispatched, a few hundred bytes each) until the answers before them were handed to the
// socket and the socket's unsent bytes are under HTTP_MAX_UNSENT_BYTES; more than
// HTTP_MAX_PIPELINED waiting closes the connection. Over HTTP_MAX_UNSENT_BYTES_TOTAL unsent bytes
// on all connections, new requests get 503 OVERLOADED (the probes and /metrics are still
// answered: they are small, /metrics sends the same shared bytes to every scraper, and neither the
// kubelet nor Prometheus must lose sight of a kernel whose clients are slow). A connection whose
// unsent bytes make no progress for HTTP_WRITE_TIMEOUT_MS is destroyed.

import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KernelError, retryAfterSeconds } from '../errors.js';

export interface ConnectionLimits {
  /** HTTP_PIPELINE_DEPTH: requests of one connection handled at once. */
  readonly pipelineDepth: number;
  /** HTTP_MAX_PIPELINED: requests of one connection that may wait behind those; one more closes it. */
  readonly maxPipelined: number;
  /** HTTP_MAX_UNSENT_BYTES: a connection's next request waits while this much is unsent. */
  readonly maxUnsentBytes: number;
  /** HTTP_MAX_UNSENT_BYTES_TOTAL: over this much unsent on all connections, new requests get 503. */
  readonly maxUnsentBytesTotal: number;
  /** HTTP_WRITE_TIMEOUT_MS: a connection whose unsent bytes make no progress this long is closed. */
  readonly writeTimeoutMs: number;
}

export type ConnectionCloseReason = 'pipeline_overflow' | 'write_timeout';

export interface ConnectionGuardEvents {
  closed(reason: ConnectionCloseReason): void;
  overloaded(): void;
}

/** Paths answered even over the kernel-wide bound: cheap, small, what the kubelet and Prometheus read. */
const PROBES = new Set(['/health', '/ready', '/metrics']);

function isProbe(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  const end = url.indexOf('?');
  return (
    (request.method === 'GET' || request.method === 'HEAD') && PROBES.has(end < 0 ? url : url.slice(0, end))
  );
}

interface ConnectionState {
  handling: number;
  readonly waiting: [IncomingMessage, ServerResponse][];
  /** Waiting for the socket's 'drain' before dispatching the next request. */
  draining: boolean;
  /** Bytes the socket has completed writing, when last looked at. */
  sent: number;
  /** Since when the unsent bytes have made no progress (undefined: nothing unsent). */
  stalledSince: number | undefined;
}

export interface ConnectionGuard {
  /** Wraps the application: requests reach it only within the bounds. */
  readonly listener: RequestListener;
  /** Bytes accepted for sending and not yet sent, over every connection. */
  unsentBytes(): number;
  /**
   * Throws 503 OVERLOADED while the unsent bytes exceed HTTP_MAX_UNSENT_BYTES_TOTAL: checked again
   * when an execution is about to start, since the answers of requests admitted together all
   * arrive after their admission.
   */
  assertRoom(): void;
  /** Tracks the server's connections and starts the write-timeout sweep (stopped when it closes). */
  attach(server: Server): void;
}

/** Bytes the socket has finished writing: what it was given minus what it still holds. */
function completed(socket: Socket): number {
  return (socket.bytesWritten ?? 0) - socket.writableLength;
}

export function createConnectionGuard(
  limits: ConnectionLimits,
  app: RequestListener,
  events: ConnectionGuardEvents,
  now: () => number = Date.now,
): ConnectionGuard {
  const states = new Map<Socket, ConnectionState>();
  let totalCache = { at: -Infinity, bytes: 0 };

  const unsentBytes = (): number => {
    // Summed at most every few ms: a burst of requests does not walk every connection each time.
    const at = performance.now();
    if (at - totalCache.at < 5) return totalCache.bytes;
    let bytes = 0;
    for (const socket of states.keys()) bytes += socket.writableLength;
    totalCache = { at, bytes };
    return bytes;
  };

  const stateOf = (socket: Socket): ConnectionState => {
    let state = states.get(socket);
    if (state === undefined) {
      state = { handling: 0, waiting: [], draining: false, sent: completed(socket), stalledSince: undefined };
      states.set(socket, state);
      socket.once('close', () => states.delete(socket));
    }
    return state;
  };

  const overloaded = (total: number): KernelError => {
    events.overloaded();
    return new KernelError(
      'OVERLOADED',
      `${total} bytes of responses wait for clients to read them, more than HTTP_MAX_UNSENT_BYTES_TOTAL (${limits.maxUnsentBytesTotal})`,
    );
  };

  const refuse = (request: IncomingMessage, response: ServerResponse, total: number): void => {
    const error = overloaded(total);
    const body = JSON.stringify({ error: error.toJSON() });
    response.writeHead(error.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Retry-After': String(retryAfterSeconds(error)),
    });
    response.end(body);
    // Nothing will read the request's body: drop it rather than keep it buffered.
    request.resume();
  };

  const dispatch = (
    socket: Socket,
    state: ConnectionState,
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    state.handling += 1;
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      state.handling -= 1;
      pump(socket, state);
    };
    response.once('finish', finished);
    response.once('close', finished);
    const total = unsentBytes();
    if (total > limits.maxUnsentBytesTotal && !isProbe(request)) {
      refuse(request, response, total);
      return;
    }
    app(request, response);
  };

  const pump = (socket: Socket, state: ConnectionState): void => {
    while (state.waiting.length > 0 && state.handling < limits.pipelineDepth && !socket.destroyed) {
      if (socket.writableLength >= limits.maxUnsentBytes) {
        // The next answer is produced once the client has read this much.
        if (!state.draining) {
          state.draining = true;
          socket.once('drain', () => {
            state.draining = false;
            pump(socket, state);
          });
        }
        return;
      }
      const [request, response] = state.waiting.shift()!;
      dispatch(socket, state, request, response);
    }
  };

  const listener: RequestListener = (request, response) => {
    const socket = request.socket;
    if (socket.destroyed) return;
    const state = stateOf(socket);
    if (
      state.handling < limits.pipelineDepth &&
      state.waiting.length === 0 &&
      socket.writableLength < limits.maxUnsentBytes
    ) {
      dispatch(socket, state, request, response);
      return;
    }
    if (state.waiting.length >= limits.maxPipelined) {
      events.closed('pipeline_overflow');
      state.waiting.length = 0;
      socket.destroy();
      return;
    }
    state.waiting.push([request, response]);
    pump(socket, state);
  };

  const sweep = (): void => {
    const at = now();
    for (const [socket, state] of states) {
      if (socket.writableLength === 0) {
        state.stalledSince = undefined;
        state.sent = completed(socket);
        continue;
      }
      const sent = completed(socket);
      if (state.stalledSince === undefined || sent > state.sent) {
        state.sent = sent;
        state.stalledSince = at;
        continue;
      }
      if (at - state.stalledSince >= limits.writeTimeoutMs) {
        events.closed('write_timeout');
        states.delete(socket);
        socket.destroy();
      }
    }
  };

  return {
    listener,
    unsentBytes,
    assertRoom() {
      const total = unsentBytes();
      if (total > limits.maxUnsentBytesTotal) throw overloaded(total);
    },
    attach(server) {
      const timer = setInterval(sweep, Math.max(50, Math.min(1000, Math.floor(limits.writeTimeoutMs / 4))));
      timer.unref();
      server.on('close', () => clearInterval(timer));
      server.on('connection', (socket: Socket) => stateOf(socket));
    },
  };
}
