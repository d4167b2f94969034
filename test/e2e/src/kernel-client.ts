// A client of one kernel endpoint (a port-forward): the HTTP API and WebSocket subscriptions, as
// docs/kernel.md describes them.
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { CheckFailed } from './report.js';

export interface Health {
  readonly status: string;
  readonly config: {
    readonly memoryLimitMB: number;
    readonly maxInstances: number;
    readonly timeoutMs: number;
    readonly store: string;
  };
  readonly store?: { readonly kind: string; readonly connected: boolean };
}

export interface ExecutionResult {
  readonly status: 'success' | 'error';
  readonly returnValue?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly version?: number;
  readonly metrics?: { readonly suspensions?: number };
  /** A retry answered from its Idempotency-Key record. */
  readonly replayed?: boolean;
}

export interface PanelView {
  readonly id: string;
  readonly state: Record<string, unknown>;
  readonly version: number;
}

export interface Frame {
  readonly type: string;
  readonly panelId?: string;
  readonly version?: number;
  readonly epoch?: string;
  readonly resumed?: boolean;
  readonly state?: Record<string, unknown>;
  readonly mutations?: readonly unknown[];
}

const REQUEST_TIMEOUT_MS = 180_000;

export class KernelClient {
  constructor(
    readonly http: string,
    private readonly ws: string,
  ) {}

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(`${this.http}${path}`, {
      method,
      // The kernel runs no POST that does not say it carries JSON, body or not.
      headers: {
        ...(body === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text for the error below
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  private async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.status < 200 || response.status > 299) {
      throw new CheckFailed(
        `${method} ${path} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
    return response.body;
  }

  /**
   * The status of a GET sent with `host` as its Host header: the name a kubelet probe (the pod's
   * IP), a Prometheus scrape or an in-cluster client (the Service's names) would send.
   */
  statusWithHost(path: string, host: string): Promise<number> {
    const { hostname, port } = new URL(this.http);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: hostname, port, path, headers: { host }, agent: false, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`GET ${path} (Host ${host}): no answer`)));
      request.on('error', reject);
      request.end();
    });
  }

  /** The local port of the port-forward (its default Host names 127.0.0.1 or localhost on it). */
  get localPort(): number {
    return Number(new URL(this.http).port);
  }

  health(): Promise<Health> {
    return this.ok<Health>('GET', '/health');
  }

  createPanel(definition: object): Promise<PanelView> {
    return this.ok<PanelView>('POST', '/panels', definition);
  }

  panel(id: string): Promise<PanelView> {
    return this.ok<PanelView>('GET', `/panels/${id}`);
  }

  /** GET /panels/:id's status code only (404 once a panel is gone). */
  async panelStatus(id: string): Promise<number> {
    return (await this.request('GET', `/panels/${id}`)).status;
  }

  /**
   * A trigger whose answer is reported whatever its status (a refusal is not a failed check);
   * `idempotencyKey` makes a retry of it safe.
   */
  async attempt(
    id: string,
    tool: string,
    args: object = {},
    idempotencyKey?: string,
  ): Promise<{ status: number; body: ExecutionResult; headers: Headers }> {
    return this.request<ExecutionResult>(
      'POST',
      `/panels/${id}/trigger/${tool}`,
      args,
      idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
    );
  }

  trigger(id: string, tool: string, args: object = {}): Promise<ExecutionResult> {
    return this.ok<ExecutionResult>('POST', `/panels/${id}/trigger/${tool}`, args);
  }

  /** Opens /panels/:id/ws (with a resume point when given) and waits for CONNECTED. */
  subscribe(id: string, resume?: { since: number; epoch: string }): Promise<Subscription> {
    const query = resume ? `?since=${resume.since}&epoch=${encodeURIComponent(resume.epoch)}` : '';
    return Subscription.open(`${this.ws}/panels/${id}/ws${query}`);
  }
}

/** One WebSocket connection: every frame it received, in order. */
export class Subscription {
  readonly frames: Frame[] = [];
  private closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame);
      this.waiters.forEach((wake) => wake());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.forEach((wake) => wake());
    });
  }

  static open(url: string): Promise<Subscription> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const subscription = new Subscription(socket);
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new CheckFailed(`WebSocket ${url} refused: HTTP ${response.statusCode}`)),
      );
      subscription
        .waitFor((frame) => frame.type === 'CONNECTED', 30_000)
        .then(() => resolve(subscription), reject);
    });
  }

  get connected(): Frame {
    return this.frames.find((frame) => frame.type === 'CONNECTED')!;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The versions of the PATCHes received, in arrival order. */
  patchVersions(): number[] {
    return this.frames.filter((frame) => frame.type === 'PATCH').map((frame) => frame.version!);
  }

  /** Resolves with the first frame matching, waiting up to timeoutMs for it. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.frames.find(match);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        if (this.closed) {
          cleanup();
          reject(
            new CheckFailed(`the WebSocket closed before the frame awaited (frames: ${this.describe()})`),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new CheckFailed(`no matching frame within ${timeoutMs} ms (frames: ${this.describe()})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      const wake = (): void => void check();
      if (!check()) this.waiters.add(wake);
    });
  }

  /** Resolves once the server has closed the connection (a pod going away). */
  async untilClosed(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CheckFailed(`the WebSocket stayed open for ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.add(() => {
        if (this.closed) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  private describe(): string {
    return this.frames
      .map((frame) => `${frame.type}${frame.version === undefined ? '' : ` v${frame.version}`}`)
      .join(', ');
  }
}
