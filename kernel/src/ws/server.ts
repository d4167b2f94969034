// The WebSocket server on WS_PORT: checks the upgrade's Host and Origin, authenticates it (?token=
// or Authorization; the socket is closed with 4401 when that token expires), resolves
// /panels/:id/ws, enforces the message size limit and drops dead clients with a ping/pong heartbeat.

import { createServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { LOGS_SCOPE, type TokenGrant, bearerToken, requireScope, type TokenVerifier } from '../auth.js';
import { KernelError, isKernelError, retryAfterSeconds } from '../errors.js';
import { hostRefused, originAllowed } from '../http/hosts.js';
import { CloseCode, type ConnectionContext, PanelConnection } from './connection.js';
import { parseLogsOptIn, parseResume } from './protocol.js';

const PATH = /^\/panels\/([^/]+)\/ws$/;

export interface PanelSocketServer {
  readonly server: Server;
  readonly connections: ReadonlySet<PanelConnection>;
  /** Closes every client with `code`, spread over `spreadMs`, and waits (a little longer) for them to go. */
  closeAll(code: number, reason: string, spreadMs: number): Promise<void>;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function refuse(socket: Duplex, error: KernelError): void {
  const body = JSON.stringify({ error: error.toJSON() });
  const retryAfter = retryAfterSeconds(error);
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

export function createPanelSocketServer(
  context: ConnectionContext,
  verifyToken: TokenVerifier,
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    /** The Host check of the HTTP port (hosts.ts). */
    hostAllowed: (host: string | undefined) => boolean;
    /** CORS_ORIGINS: the pages of other origins that may open a socket. */
    corsOrigins: readonly string[];
  },
): PanelSocketServer {
  const connections = new Set<PanelConnection>();
  const byAddress = new Map<string, number>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: context.config.maxMessageBytes,
    perMessageDeflate: false,
  });
  const serverOptions = {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
  };
  const server = createServer(serverOptions, (_request, response) => {
    response.writeHead(426, { 'Content-Type': 'application/json', Upgrade: 'websocket' });
    response.end(
      JSON.stringify({
        error: { code: 'BAD_REQUEST', message: 'this port speaks WebSocket only: connect to /panels/:id/ws' },
      }),
    );
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://kernel');
    const match = PATH.exec(url.pathname);
    if (match === null) {
      refuse(
        socket,
        new KernelError('ROUTE_NOT_FOUND', `no WebSocket endpoint at ${url.pathname}; use /panels/:id/ws`),
      );
      return;
    }
    const host = request.headers.host;
    if (!http.hostAllowed(host)) {
      refuse(socket, hostRefused(host ?? ''));
      return;
    }
    // Browsers always send Origin on a WebSocket upgrade and let any page open one: a page of
    // another site must not reach a kernel (a port-forward, say) through its user's browser.
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, host, http.corsOrigins)) {
      refuse(
        socket,
        new KernelError(
          'ORIGIN_NOT_ALLOWED',
          `WebSockets from Origin ${JSON.stringify(origin.slice(0, 256))} are not allowed: only the kernel's own host and the origins in CORS_ORIGINS`,
        ),
      );
      return;
    }
    if (context.status.draining) {
      refuse(
        socket,
        new KernelError('SHUTTING_DOWN', 'the kernel is shutting down and accepts no new connections'),
      );
      return;
    }
    if (connections.size >= context.config.maxConnections) {
      refuse(
        socket,
        new KernelError(
          'OVERLOADED',
          `${connections.size} WebSocket connections are open (WS_MAX_CONNECTIONS)`,
        ),
      );
      return;
    }
    const address = request.socket.remoteAddress ?? '';
    const perAddress = context.config.maxConnectionsPerAddress;
    if (perAddress > 0 && (byAddress.get(address) ?? 0) >= perAddress) {
      refuse(
        socket,
        new KernelError(
          'TOO_MANY_CONNECTIONS',
          `this address has ${perAddress} WebSocket connections open (WS_MAX_CONNECTIONS_PER_ADDRESS)`,
        ),
      );
      return;
    }
    const resume = parseResume(url.searchParams);
    if (typeof resume === 'string') {
      refuse(socket, new KernelError('BAD_REQUEST', `bad resume point: ${resume}`));
      return;
    }
    const logs = parseLogsOptIn(url.searchParams);
    if (typeof logs === 'string') {
      refuse(socket, new KernelError('BAD_REQUEST', logs));
      return;
    }
    const token = url.searchParams.get('token') ?? bearerToken(request.headers.authorization);
    const panelId = safeDecode(match[1]!);
    let granted: TokenGrant | undefined;
    verifyToken(token ?? undefined)
      .then((grant) => {
        granted = grant;
        if (logs) requireScope(grant, LOGS_SCOPE, "a panel's LOG messages (?logs=1)");
        if (panelId === undefined) throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${match[1]}"`);
        return context.registry.get(panelId);
      })
      .then(
        (panel) => {
          wss.handleUpgrade(request, socket, head, (ws) => {
            const connection = new PanelConnection(
              ws,
              panel,
              context,
              context.logger.child({ panelId, remote: request.socket.remoteAddress }),
              resume,
            );
            connection.grant = granted;
            connection.logs = logs;
            if (granted !== undefined) connection.expireAt(granted.expiresAt);
            connections.add(connection);
            context.metrics.wsConnections.inc();
            ws.on('close', () => {
              connections.delete(connection);
              context.metrics.wsConnections.dec();
            });
          });
        },
        (error: unknown) =>
          refuse(
            socket,
            isKernelError(error)
              ? error
              : new KernelError('INTERNAL_ERROR', 'the connection could not be set up'),
          ),
      );
  });

  // The verdict waits for one turn of the event loop (setImmediate runs after the poll phase):
  // after this process was starved, timers run before sockets are read, and a client whose pong
  // is already waiting in its socket must not be dropped for the kernel's delay.
  const heartbeat = setInterval(() => {
    setImmediate(() => {
      for (const connection of connections) {
        if (!connection.alive) {
          context.metrics.wsDisconnects.inc({ reason: 'heartbeat' });
          connection.socket.terminate();
          continue;
        }
        // ping() throws on a socket that is already closing.
        if (connection.socket.readyState !== connection.socket.OPEN) continue;
        connection.alive = false;
        connection.socket.ping();
      }
    });
  }, context.config.heartbeatMs);
  heartbeat.unref();
  server.on('close', () => clearInterval(heartbeat));

  return {
    server,
    connections,
    async closeAll(code, reason, spreadMs) {
      // Spread over `spreadMs`, so the clients' reconnects reach the other kernels as a trickle.
      const all = [...connections];
      const timers: NodeJS.Timeout[] = [];
      const closing = all.map(
        (connection, index) =>
          new Promise<void>((resolve) => {
            if (connection.socket.readyState === connection.socket.CLOSED) return resolve();
            connection.socket.once('close', () => resolve());
            timers.push(
              setTimeout(() => connection.close(code, reason), Math.floor((index / all.length) * spreadMs)),
            );
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(closing),
        new Promise((resolve) => (timer = setTimeout(resolve, spreadMs + 2000))),
      ]);
      clearTimeout(timer);
      for (const pending of timers) clearTimeout(pending);
      for (const connection of connections) connection.socket.terminate();
      wss.close();
    },
  };
}

export { CloseCode };
