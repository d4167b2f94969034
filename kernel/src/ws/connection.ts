// One WebSocket client of one panel: subscribed on connect (from the current state, or resumed
// from a version it saw), TRIGGER/SUBSCRIBE/UNSUBSCRIBE/PING in, CONNECTED/SUBSCRIBED/
// UNSUBSCRIBED/RESULT/PATCH/SNAPSHOT/EVENT/PROGRESS/ERROR/PONG out. A client whose send buffer
// passes WS_MAX_BUFFERED_BYTES is dropped, so a slow reader cannot grow our memory.

import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { LOGS_SCOPE, type TokenGrant, requireScope } from '../auth.js';
import { KernelError, isKernelError, retryAfterSeconds } from '../errors.js';
import { parseIdempotencyKey } from '../panels/requests.js';
import { ClientMessageType, ServerMessageType, type WireMessage } from '../messages.js';
import { logFailedExecution } from '../logger.js';
import type { Executor } from '../panels/executor.js';
import type { FeedSink, Feeds, Greeting, StartRequest, Subscription } from '../panels/feed.js';
import type { Panel } from '../panels/panel.js';
import type { SchemaValidator } from '../schemas/validator.js';
import type { PanelRegistry } from '../panels/registry.js';
import { triggerTool } from '../panels/trigger.js';
import { executionView, spliced } from '../panels/views.js';
import type { KernelMetrics } from '../metrics.js';
import type { KernelConfig } from '../config.js';
import type { KernelStatus } from '../status.js';
import { parseClientMessage } from './protocol.js';
import { TokenBucket } from './rate-limit.js';

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  TOO_LARGE: 1009,
  /** The token the socket was opened with has expired: reconnect with a fresh one. */
  TOKEN_EXPIRED: 4401,
  PANEL_DELETED: 4404,
} as const;

export interface ConnectionContext {
  readonly config: KernelConfig['ws'];
  readonly logger: Logger;
  readonly metrics: KernelMetrics;
  readonly registry: PanelRegistry;
  readonly executor: Executor;
  readonly schemas: SchemaValidator;
  readonly feeds: Feeds;
  readonly status: KernelStatus;
}

// prom-client hashes label values on every labels() call; a fan-out to many subscribers counts
// one message per subscriber, so the children are looked up once per metrics object and type.
const messageCounters = new WeakMap<KernelMetrics, Map<string, { inc(): void }>>();

function countMessage(metrics: KernelMetrics, direction: 'in' | 'out', type: string): void {
  let children = messageCounters.get(metrics);
  if (children === undefined) {
    children = new Map();
    messageCounters.set(metrics, children);
  }
  const key = `${direction}:${type}`;
  let child = children.get(key);
  if (child === undefined) {
    child = metrics.wsMessages.labels(direction, type);
    children.set(key, child);
  }
  child.inc();
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}

export class PanelConnection implements FeedSink {
  alive = true;
  /** Takes the panel's LOG messages (`?logs=1` or SUBSCRIBE `logs: true`, scope permitting). */
  logs = false;
  /** What the socket's token grants; undefined with auth off (server.ts sets it). */
  grant: TokenGrant | undefined;
  private subscription: Subscription | undefined;
  /** Bumped by every SUBSCRIBE/UNSUBSCRIBE, so a join that completes late knows it is stale. */
  private subscribeGeneration = 0;
  private inFlight = 0;
  private readonly bucket: TokenBucket;
  /** SUBSCRIBE sends the whole state: its own, lower rate. */
  private readonly subscribes: TokenBucket;
  private limitedSince = -Infinity;
  private closed = false;
  /** When the token the socket was opened with is refused (ms since the epoch); none without auth. */
  private tokenExpiresAt: number | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly panel: Panel,
    private readonly context: ConnectionContext,
    private readonly logger: Logger,
    start: StartRequest,
  ) {
    this.bucket = new TokenBucket(context.config.maxMessagesPerSecond);
    this.subscribes = new TokenBucket(context.config.maxSubscribesPerSecond);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.dispose());
    socket.on('error', (error) => {
      if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        context.metrics.wsDisconnects.inc({ reason: 'too_large' });
      logger.debug({ err: error }, 'websocket error');
    });
    this.subscribe(start, ServerMessageType.CONNECTED);
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  send(frame: string | Buffer | readonly (string | Buffer)[], type: string): void {
    this.sendFrame(frame, type);
  }

  panelDeleted(): void {
    this.close(CloseCode.PANEL_DELETED, 'panel deleted');
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    this.socket.close(code, reason);
  }

  /**
   * Closes the socket with 4401 when its token expires: a socket is worth no more than the token
   * that opened it. Every message is checked as well, so no TRIGGER runs after the expiry even
   * when the timer is late.
   */
  expireAt(at: number): void {
    this.tokenExpiresAt = at;
    const arm = (): void => {
      const wait = at - Date.now();
      if (wait <= 0) {
        this.expire();
        return;
      }
      // setTimeout holds at most 2^31-1 ms (24.8 days); longer-lived tokens re-arm.
      this.expiryTimer = setTimeout(arm, Math.min(wait, 2 ** 31 - 1));
      this.expiryTimer.unref();
    };
    arm();
  }

  private expire(): void {
    if (this.closed) return;
    this.context.metrics.wsDisconnects.inc({ reason: 'token_expired' });
    this.close(CloseCode.TOKEN_EXPIRED, 'token expired');
  }

  private greeting(type: string): Greeting {
    const panel = this.panel;
    return ({ resumed, version, epoch, revision, state }) => {
      const fields = JSON.stringify({
        type,
        panelId: panel.id,
        version,
        epoch,
        revision,
        resumed,
        ...(type === ServerMessageType.CONNECTED ? { tools: [...panel.tools.keys()] } : {}),
      });
      // The state's bytes are the panel's cached encoding, sent as they are (no copy, no re-encoding).
      return { frame: state === undefined ? fields : [`${fields.slice(0, -1)},"state":`, state, '}'], type };
    };
  }

  /** Joins the panel's feed and starts it from `start` (resume) or from the current state. */
  private subscribe(start: StartRequest, type: string): void {
    this.leave();
    const generation = ++this.subscribeGeneration;
    this.context.feeds.join(this.panel.id, this).then(
      (subscription) => {
        if (this.closed || generation !== this.subscribeGeneration) {
          this.context.feeds.leave(this.panel.id, subscription);
          return;
        }
        this.subscription = subscription;
        subscription.start(start, this.greeting(type));
      },
      (error: unknown) => {
        this.sendError(
          isKernelError(error)
            ? error
            : new KernelError('INTERNAL_ERROR', 'the subscription could not start'),
        );
      },
    );
  }

  private leave(): void {
    this.subscribeGeneration += 1;
    if (this.subscription === undefined) return;
    this.context.feeds.leave(this.panel.id, this.subscription);
    this.subscription = undefined;
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiryTimer);
    this.leave();
  }

  private receive(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.tokenExpiresAt !== undefined && Date.now() >= this.tokenExpiresAt) {
      this.expire();
      return;
    }
    if (!this.bucket.take()) {
      const now = performance.now();
      if (now - this.limitedSince >= 1000) {
        this.limitedSince = now;
        this.sendError(
          new KernelError(
            'RATE_LIMITED',
            `more than ${this.context.config.maxMessagesPerSecond} messages per second; messages are dropped`,
          ),
        );
      }
      return;
    }
    if (isBinary) {
      this.sendError(new KernelError('MALFORMED_MESSAGE', 'binary frames are not accepted; send JSON text'));
      return;
    }
    let message;
    try {
      message = parseClientMessage(textOf(data));
    } catch (error) {
      this.count('in', 'invalid');
      this.sendError(error as KernelError);
      return;
    }
    this.count('in', message.type);
    switch (message.type) {
      case ClientMessageType.PING:
        this.sendMessage({
          type: ServerMessageType.PONG,
          ...(message.id === undefined ? {} : { id: message.id }),
          time: Date.now(),
        });
        break;
      case ClientMessageType.SUBSCRIBE:
        if (!this.subscribes.take()) {
          this.sendError(
            new KernelError(
              'RATE_LIMITED',
              `more than ${this.context.config.maxSubscribesPerSecond} SUBSCRIBEs per second (WS_MAX_SUBSCRIBES_PER_SECOND); this one was dropped`,
            ),
          );
          break;
        }
        if (message.logs === true) {
          try {
            requireScope(this.grant, LOGS_SCOPE, "a panel's LOG messages");
          } catch (error) {
            // Refused as a whole: the subscription stays as it was.
            this.sendError(error as KernelError);
            break;
          }
        }
        if (message.logs !== undefined) this.logs = message.logs;
        this.subscribe(
          message.since === undefined || message.epoch === undefined
            ? {}
            : { since: message.since, epoch: message.epoch },
          ServerMessageType.SUBSCRIBED,
        );
        break;
      case ClientMessageType.UNSUBSCRIBE:
        this.leave();
        this.sendMessage({ type: ServerMessageType.UNSUBSCRIBED, panelId: this.panel.id });
        break;
      case ClientMessageType.TRIGGER:
        this.trigger(message.tool, message.args, message.requestId, message.idempotencyKey);
        break;
    }
  }

  private trigger(
    tool: string,
    args: unknown,
    requestId: string | number | undefined,
    key: string | undefined,
  ): void {
    let idempotencyKey: string | undefined;
    try {
      idempotencyKey = parseIdempotencyKey(key);
    } catch (error) {
      this.sendError(error as KernelError, requestId);
      return;
    }
    if (this.context.status.draining) {
      this.sendError(
        new KernelError('SHUTTING_DOWN', 'the kernel is shutting down and accepts no new work'),
        requestId,
      );
      return;
    }
    if (this.inFlight >= this.context.config.maxInFlight) {
      this.sendError(
        new KernelError(
          'TOO_MANY_IN_FLIGHT',
          `${this.inFlight} triggers of this connection are still running (WS_MAX_IN_FLIGHT)`,
        ),
        requestId,
      );
      return;
    }
    this.inFlight += 1;
    const logger =
      requestId === undefined ? this.logger : this.logger.child({ requestId: String(requestId) });
    triggerTool(this.context, {
      panelId: this.panel.id,
      tool,
      args,
      ...(requestId === undefined ? {} : { requestId: String(requestId) }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      logger,
    })
      .then(
        (outcome) => {
          logFailedExecution(logger, this.panel.id, tool, outcome);
          // The result is JSON text with the handler's values spliced in: sent as it is.
          this.sendFrame(
            spliced(
              { type: ServerMessageType.RESULT, ...(requestId === undefined ? {} : { requestId }) },
              { result: executionView(outcome) },
            ),
            ServerMessageType.RESULT,
          );
        },
        (error: unknown) => {
          if (!isKernelError(error)) this.logger.error({ err: error, tool }, 'trigger failed');
          this.sendError(
            isKernelError(error)
              ? error
              : new KernelError('INTERNAL_ERROR', 'the trigger failed inside the kernel'),
            requestId,
          );
        },
      )
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  private sendError(error: KernelError, requestId?: string | number): void {
    const retryAfter = retryAfterSeconds(error);
    this.sendMessage({
      type: ServerMessageType.ERROR,
      ...(requestId === undefined ? {} : { requestId }),
      ...error.toJSON(),
      // Busy, not wrong: the seconds to wait before sending it again (HTTP's Retry-After).
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
  }

  private sendMessage(message: WireMessage): void {
    this.sendFrame(JSON.stringify(message), message.type);
  }

  /** Sends text; a Buffer is already UTF-8 JSON (shared by every subscriber of a broadcast). */
  private sendFrame(frame: string | Buffer | readonly (string | Buffer)[], type: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.context.config.maxBufferedBytes) {
      this.context.metrics.wsDisconnects.inc({ reason: 'slow_consumer' });
      this.logger.warn(
        { bufferedBytes: this.socket.bufferedAmount },
        'dropping a WebSocket client that does not keep up',
      );
      this.dispose();
      this.socket.terminate();
      return;
    }
    this.count('out', type);
    if (typeof frame === 'string' || Buffer.isBuffer(frame)) {
      this.socket.send(frame, { binary: false });
      return;
    }
    // One message in fragments: nothing else is sent in between (this runs synchronously).
    frame.forEach((part, index) =>
      this.socket.send(part, { binary: false, fin: index === frame.length - 1 }),
    );
  }

  private count(direction: 'in' | 'out', type: string): void {
    countMessage(this.context.metrics, direction, type);
  }
}
