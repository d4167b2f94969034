// The execution loop against a scripted sandbox (the real one is in the integration suites): what
// happens when a suspension is lost, a resume fails, a segment is refused, or time runs out, and
// that abandoned suspensions are cancelled and metrics reported once.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ExtensionHost } from '../extensions/host.js';
import {
  type ExecutionContext,
  type ResumeOutcome,
  type Sandbox,
  type SandboxResult,
  SuspensionLostError,
} from '../sandbox/types.js';
import { EmbeddedStore } from '../store/embedded.js';
import type { NewLogLine } from '../store/types.js';
import { Executor } from './executor.js';
import { LogShipper } from './log-shipper.js';
import { Feeds } from './feed.js';
import { type GateLimits, PanelGates } from './gate.js';
import { CachedState, Panel } from './panel.js';
import { RETENTION } from '../testing/retention.js';

const logger = pino({ level: 'silent' });

const gates = (limits: Partial<GateLimits> = {}): PanelGates =>
  new PanelGates({ maxWaiters: 10, instances: 2, panelMaxInstances: 2, maxQueued: 10, ...limits });

function result(overrides: Partial<SandboxResult>): SandboxResult {
  return {
    status: 'success',
    stateMutations: [],
    events: [],
    viewCommands: [],
    logs: [],
    metrics: {
      durationUs: 10,
      cpuTimeUs: 8,
      memoryUsedBytes: 0,
      memoryPeakBytes: 100,
      hostCalls: 1,
      cacheHit: true,
      compilationTimeUs: 0,
    },
    ...overrides,
  };
}

const suspended = (id: string, durationUs: number): SandboxResult =>
  result({
    status: 'suspended',
    suspension: { suspensionId: id, extensionName: 'kv', method: 'get', argsJson: '[]' },
    metrics: {
      durationUs,
      cpuTimeUs: durationUs,
      memoryUsedBytes: 0,
      memoryPeakBytes: 100,
      hostCalls: 1,
      cacheHit: false,
      compilationTimeUs: 0,
    },
  });

/** A sandbox that plays back scripted results and records what it was asked. */
class ScriptedSandbox implements Pick<Sandbox, 'execute' | 'resume' | 'cancel'> {
  readonly cancelled: string[] = [];
  readonly resumed: { id: string; outcome: ResumeOutcome; state?: string }[] = [];
  constructor(private readonly script: (SandboxResult | Error)[]) {}
  private next(): Promise<SandboxResult> {
    const item = this.script.shift();
    if (item === undefined) return Promise.reject(new Error('the script ran out'));
    return item instanceof Error ? Promise.reject(item) : Promise.resolve(item);
  }
  execute(_bytecode: Buffer, _context: ExecutionContext): Promise<SandboxResult> {
    return this.next();
  }
  resume(id: string, outcome: ResumeOutcome, state?: Buffer): Promise<SandboxResult> {
    this.resumed.push({ id, outcome, ...(state ? { state: state.toString() } : {}) });
    return this.next();
  }
  cancel(id: string): void {
    this.cancelled.push(id);
  }
}

describe('Executor', () => {
  let directory: string;
  let store: EmbeddedStore;
  let panel: Panel;
  const extensions: Pick<ExtensionHost, 'invoke'> = {
    invoke: () => Promise.resolve({ success: true, valueJson: '"v"' }),
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'nexus-executor-'));
    store = new EmbeddedStore(
      directory,
      { maxPanels: 10, maxStateBytes: 200, historyLength: 8, historyBytes: 1 << 20, ...RETENTION },
      logger,
      'me',
    );
    await store.start();
    panel = await createPanel('p');
  });

  async function createPanel(id: string): Promise<Panel> {
    const entries = new Map([['n', '0']]);
    await store.create(
      { id, epoch: 'e', definition: '{}', title: 't', tools: ['t'], state: entries, createdAt: 'now' },
      60_000,
    );
    await store.admit(id);
    const handler = { name: 't', hash: 'h', bytecode: Buffer.from('x'), capabilities: [], timeoutMs: 1000 };
    return new Panel({
      id,
      epoch: 'e',
      revision: 1,
      definition: { title: 't', state: {}, extensions: ['kv'], tools: {}, lifecycle: {} },
      definitionText: '{}',
      tools: new Map([['t', handler]]),
      lifecycle: {},
      extensionRegistry: { kv: ['get'] },
      createdAt: 'now',
      state: new CachedState({ version: 0, epoch: 'e', revision: 1, entries, bytes: 9 }).snapshot,
    });
  }
  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  function executor(sandbox: ScriptedSandbox, deadlineMs = 5000): Executor {
    const feeds = new Feeds(
      store,
      () => Promise.resolve(panel.state),
      () => {},
      logger,
    );
    return new Executor({
      sandbox,
      extensions,
      store,
      gates: gates(),
      feeds,
      deadlineMs,
      maxStateBytes: 200,
    });
  }

  const run = (target: Executor, on: Panel = panel) =>
    target.run({ panel: on, handler: on.tools.get('t')!, kind: 'tool', argsJson: Buffer.from('{}') });

  it('resumes with the extension value and the latest state, and reports cumulative metrics once', async () => {
    const sandbox = new ScriptedSandbox([
      suspended('s1', 100),
      suspended('s2', 250),
      result({
        returnValueJson: '7',
        stateMutations: [{ key: 'n', valueJson: '1', operation: 'set' }],
        metrics: {
          durationUs: 400,
          cpuTimeUs: 380,
          memoryUsedBytes: 0,
          memoryPeakBytes: 300,
          hostCalls: 9,
          cacheHit: false,
          compilationTimeUs: 0,
        },
      }),
    ]);
    const outcome = await run(executor(sandbox));
    expect(outcome).toMatchObject({ status: 'success', returnValueJson: '7', version: 1 });
    // The bridge's metrics are cumulative: the last segment's, not a sum of three.
    expect(outcome.metrics).toMatchObject({
      durationUs: 400,
      cpuTimeUs: 380,
      hostCalls: 9,
      memoryPeakBytes: 300,
      suspensions: 2,
    });
    expect(sandbox.resumed).toEqual([
      { id: 's1', outcome: { success: true, valueJson: '"v"' }, state: '{"n":0}' },
      { id: 's2', outcome: { success: true, valueJson: '"v"' }, state: '{"n":0}' },
    ]);
    expect(sandbox.cancelled).toEqual([]);
  });

  it('commits nothing of a segment that ends in an error, and keeps the segments before it', async () => {
    const sandbox = new ScriptedSandbox([
      result({
        status: 'suspended',
        suspension: { suspensionId: 's1', extensionName: 'kv', method: 'get', argsJson: '[]' },
        stateMutations: [{ key: 'n', valueJson: '1', operation: 'set' }],
        events: [{ name: 'first', payloadJson: '1' }],
      }),
      result({
        status: 'error',
        stateMutations: [{ key: 'n', valueJson: '2', operation: 'set' }],
        events: [{ name: 'second', payloadJson: '2' }],
        viewCommands: [{ type: 'focus', componentId: 'x' }],
        error: { code: 'EXECUTION_ERROR', message: 'Error: late' },
      }),
    ]);
    const outcome = await run(executor(sandbox));
    expect(outcome).toMatchObject({
      status: 'error',
      error: { code: 'EXECUTION_ERROR' },
      version: 1,
      stateMutations: [{ key: 'n', json: '1' }],
      events: [{ name: 'first', payloadJson: '1' }],
      viewCommands: [],
    });
    const stored = await store.readState('p');
    if (stored === 'gone') throw new Error('gone');
    expect(stored.state).toMatchObject({ version: 1 });
    expect(stored.state?.entries.get('n')).toBe('1');
  });

  it('commits nothing of a first segment that ends in an error: no version, no state', async () => {
    const sandbox = new ScriptedSandbox([
      result({
        status: 'error',
        stateMutations: [{ key: 'n', valueJson: '105', operation: 'set' }],
        events: [{ name: 'e' }],
        error: { code: 'EXECUTION_ERROR', message: 'ReferenceError: notDefined is not defined' },
      }),
    ]);
    const outcome = await run(executor(sandbox));
    expect(outcome).toMatchObject({ status: 'error', version: 0, stateMutations: [], events: [] });
    const stored = await store.readState('p');
    if (stored === 'gone') throw new Error('gone');
    expect(stored.state).toMatchObject({ version: 0 });
    expect(stored.state?.entries.get('n')).toBe('0');
  });

  it('ends with TIMEOUT when the sandbox no longer holds the suspension', async () => {
    const sandbox = new ScriptedSandbox([
      suspended('s1', 10),
      new SuspensionLostError('suspension "s1" expired'),
    ]);
    const outcome = await run(executor(sandbox));
    expect(outcome).toMatchObject({
      status: 'error',
      error: { code: 'TIMEOUT', message: expect.stringContaining('expired') },
    });
  });

  it('reports a failing resume as the execution error, without leaving the handler parked', async () => {
    const sandbox = new ScriptedSandbox([suspended('s1', 10), new Error('the bridge broke')]);
    await expect(run(executor(sandbox))).resolves.toMatchObject({
      status: 'error',
      error: { code: 'INTERNAL_ERROR' },
    });
    expect(sandbox.cancelled).toEqual([]);
  });

  it('cancels a parked handler whose segment the store refused', async () => {
    const sandbox = new ScriptedSandbox([
      result({
        status: 'suspended',
        suspension: { suspensionId: 's1', extensionName: 'kv', method: 'get', argsJson: '[]' },
        stateMutations: [{ key: 'big', valueJson: JSON.stringify('x'.repeat(500)), operation: 'set' }],
      }),
    ]);
    const outcome = await run(executor(sandbox));
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'RESOURCE_LIMIT' } });
    expect(sandbox.cancelled).toEqual(['s1']);
  });

  it('cancels a parked handler whose execution ran past its deadline during the extension call', async () => {
    const sandbox = new ScriptedSandbox([suspended('s1', 10)]);
    const slow: Pick<ExtensionHost, 'invoke'> = {
      invoke: () => new Promise((resolve) => setTimeout(() => resolve({ success: true }), 80)),
    };
    const feeds = new Feeds(
      store,
      () => Promise.resolve(panel.state),
      () => {},
      logger,
    );
    const target = new Executor({
      sandbox,
      extensions: slow,
      store,
      gates: gates(),
      feeds,
      deadlineMs: 30,
      maxStateBytes: 200,
    });
    const outcome = await run(target);
    expect(outcome).toMatchObject({ status: 'error', error: { code: 'TIMEOUT' } });
    expect(sandbox.cancelled).toEqual(['s1']);
  });

  it('refuses work beyond its queue with OVERLOADED', async () => {
    const blocking = new ScriptedSandbox([]);
    blocking.execute = () => new Promise(() => {});
    const target = new Executor({
      sandbox: blocking,
      extensions,
      store,
      gates: gates({ maxWaiters: 100, instances: 1, maxQueued: 2 }),
      feeds: new Feeds(
        store,
        () => Promise.resolve(panel.state),
        () => {},
        logger,
      ),
      deadlineMs: 60_000,
      maxStateBytes: 200,
    });
    for (let i = 0; i < 3; i++) void run(target);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(run(target)).rejects.toMatchObject({ code: 'OVERLOADED' });
  });

  describe('sharing instances between panels', () => {
    /** A sandbox whose handlers on panel p spin or park until told, and are trivial elsewhere. */
    class NoisySandbox implements Pick<Sandbox, 'execute' | 'resume' | 'cancel'> {
      private parked = 0;
      readonly spinning: (() => void)[] = [];
      constructor(private readonly noisy: 'spin' | 'park') {}
      execute(_bytecode: Buffer, context: ExecutionContext): Promise<SandboxResult> {
        if (context.panelId !== 'p') return Promise.resolve(result({ returnValueJson: '"quiet"' }));
        if (this.noisy === 'park') {
          this.parked += 1;
          return Promise.resolve(suspended(`s${this.parked}`, 10));
        }
        return new Promise((resolve) =>
          this.spinning.push(() => resolve(result({ returnValueJson: '"spun"' }))),
        );
      }
      resume(): Promise<SandboxResult> {
        return Promise.resolve(result({ returnValueJson: '"resumed"' }));
      }
      cancel(): void {}
    }

    function noisyExecutor(sandbox: NoisySandbox, target: PanelGates, invoke: ExtensionHost['invoke']) {
      return new Executor({
        sandbox,
        extensions: { invoke },
        store,
        gates: target,
        feeds: new Feeds(
          store,
          () => Promise.resolve(panel.state),
          () => {},
          logger,
        ),
        deadlineMs: 60_000,
        maxStateBytes: 200,
      });
    }

    it('lets a panel with many parked and queued executions hold only its share', async () => {
      const quiet = await createPanel('q');
      const calls: (() => void)[] = [];
      // The noisy panel's extension calls hang until the test lets them go.
      const invoke = () =>
        new Promise<ResumeOutcome>((resolve) => calls.push(() => resolve({ success: true, valueJson: '1' })));
      const target = new PanelGates({ maxWaiters: 100, instances: 4, panelMaxInstances: 2, maxQueued: 100 });
      const executor = noisyExecutor(new NoisySandbox('park'), target, invoke);
      const noisy = Array.from({ length: 20 }, () => run(executor));
      while (calls.length < 2) await new Promise((resolve) => setImmediate(resolve));
      expect(target.holding('p')).toBe(2);
      expect(target.waiting('p')).toBe(18);
      // Without shares the twenty would hold every instance and this would wait for the deadline.
      await expect(run(executor, quiet)).resolves.toMatchObject({
        status: 'success',
        returnValueJson: '"quiet"',
      });
      await expect(run(executor, quiet)).resolves.toMatchObject({
        status: 'success',
        returnValueJson: '"quiet"',
      });
      // The noisy panel still gets through all its work, its share at a time.
      while (calls.length > 0 || executor.inFlight > 0) {
        calls.splice(0).forEach((release) => release());
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const outcome of await Promise.all(noisy)) expect(outcome).toMatchObject({ status: 'success' });
      expect(target.busy).toBe(0);
    });

    it('lets a panel with many queued spinning executions hold one instance', async () => {
      const quiet = await createPanel('q');
      const sandbox = new NoisySandbox('spin');
      const target = new PanelGates({ maxWaiters: 100, instances: 2, panelMaxInstances: 2, maxQueued: 100 });
      const executor = noisyExecutor(sandbox, target, extensions.invoke);
      const noisy = Array.from({ length: 12 }, () => run(executor));
      while (sandbox.spinning.length < 1) await new Promise((resolve) => setImmediate(resolve));
      expect(target.busy).toBe(1);
      expect(executor.queued).toBe(11);
      await expect(run(executor, quiet)).resolves.toMatchObject({
        status: 'success',
        returnValueJson: '"quiet"',
      });
      while (executor.inFlight > 0) {
        sandbox.spinning.splice(0).forEach((finish) => finish());
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const outcome of await Promise.all(noisy)) expect(outcome).toMatchObject({ status: 'success' });
    });

    it('refuses a start that waited past the deadline with a retryable error, not a failed execution', async () => {
      const sandbox = new NoisySandbox('spin');
      const target = new PanelGates({ maxWaiters: 100, instances: 1, panelMaxInstances: 1, maxQueued: 100 });
      const executor = new Executor({
        sandbox,
        extensions,
        store,
        gates: target,
        feeds: new Feeds(
          store,
          () => Promise.resolve(panel.state),
          () => {},
          logger,
        ),
        deadlineMs: 30,
        maxStateBytes: 200,
      });
      const quiet = await createPanel('q');
      const spinning = run(executor);
      // The panel is held by the spinning one: PANEL_BUSY (429).
      await expect(run(executor)).rejects.toMatchObject({ code: 'PANEL_BUSY', status: 429 });
      // The only instance is held: OVERLOADED (503).
      await expect(run(executor, quiet)).rejects.toMatchObject({ code: 'OVERLOADED', status: 503 });
      sandbox.spinning.splice(0).forEach((finish) => finish());
      await spinning;
    });
  });
  it("gathers the handler's log lines over every segment and records each in the caller's log", async () => {
    const sandbox = new ScriptedSandbox([
      result({
        status: 'suspended',
        suspension: { suspensionId: 's1', extensionName: 'kv', method: 'get', argsJson: '[]' },
        logs: [
          { level: 'info', message: 'first', atMs: 0 },
          { level: 'debug', message: 'detail', atMs: 1 },
        ],
      }),
      result({
        status: 'error',
        error: { code: 'EXECUTION_ERROR', message: 'Error: late', location: { line: 3, column: 7 } },
        logs: [
          { level: 'warn', message: 'second', atMs: 5 },
          { level: 'error', message: 'Error: late', atMs: 6, location: { line: 3, column: 7 } },
        ],
      }),
    ]);
    const written: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'debug' },
      { write: (line: string) => written.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const outcome = await executor(sandbox).run({
      panel,
      handler: panel.tools.get('t')!,
      kind: 'tool',
      argsJson: Buffer.from('{}'),
      logger: log.child({ requestId: 'r-1' }),
    });
    expect(outcome.status).toBe('error');
    expect(outcome.logs.map((line) => [line.level, line.message])).toEqual([
      ['info', 'first'],
      ['debug', 'detail'],
      ['warn', 'second'],
      ['error', 'Error: late'],
    ]);
    const handlerLines = written.filter((line) => line.source === 'handler');
    expect(handlerLines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'first',
        panelId: 'p',
        tool: 't',
        kind: 'tool',
        requestId: 'r-1',
      }),
      expect.objectContaining({ level: 20, msg: 'detail', atMs: 1 }),
      expect.objectContaining({ level: 40, msg: 'second' }),
      expect.objectContaining({ level: 50, msg: 'Error: late', location: { line: 3, column: 7 } }),
    ]);
  });

  it("records the handler's lines in the kernel's log when the caller gives none, and returns none when there were none", async () => {
    const written: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'info' },
      { write: (line: string) => written.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const quiet = await executor(new ScriptedSandbox([result({})])).run({
      panel,
      handler: panel.tools.get('t')!,
      kind: 'tool',
      argsJson: Buffer.from('{}'),
    });
    expect(quiet.logs).toEqual([]);
    const feeds = new Feeds(
      store,
      () => Promise.resolve(panel.state),
      () => {},
      logger,
    );
    const target = new Executor({
      sandbox: new ScriptedSandbox([result({ logs: [{ level: 'info', message: 'mounted', atMs: 0 }] })]),
      extensions,
      store,
      gates: gates(),
      feeds,
      deadlineMs: 5000,
      maxStateBytes: 200,
      logger: log,
    });
    await target.run({ panel, handler: panel.tools.get('t')!, kind: 'mount', argsJson: Buffer.from('{}') });
    expect(written).toEqual([
      expect.objectContaining({ source: 'handler', msg: 'mounted', panelId: 'p', tool: 't', kind: 'mount' }),
    ]);
  });

  it('adds a line of its own when the kernel ends an execution, and hands every line to the ring once', async () => {
    const sandbox = new ScriptedSandbox([
      result({
        status: 'suspended',
        suspension: { suspensionId: 's1', extensionName: 'kv', method: 'get', argsJson: '[]' },
        stateMutations: [{ key: 'big', valueJson: JSON.stringify('x'.repeat(500)), operation: 'set' }],
        logs: [{ level: 'info', message: 'writing a lot', atMs: 1 }],
      }),
      result({ logs: [{ level: 'info', message: 'fine', atMs: 0 }] }),
    ]);
    const shipped: { id: string; lines: NewLogLine[] }[] = [];
    const logs = new LogShipper(
      {
        appendLogs: (id, lines) => {
          shipped.push({ id, lines: [...lines] });
          return Promise.resolve('ok' as const);
        },
        readLogs: () => Promise.resolve('gone' as const),
      },
      { logLines: 100, logBytes: 1 << 20 },
      logger,
    );
    const feeds = new Feeds(
      store,
      () => Promise.resolve(panel.state),
      () => {},
      logger,
    );
    const target = new Executor({
      sandbox,
      extensions,
      store,
      gates: gates(),
      feeds,
      deadlineMs: 5000,
      maxStateBytes: 200,
      logs,
    });
    const refused = await target.run({
      panel,
      handler: panel.tools.get('t')!,
      kind: 'tool',
      argsJson: Buffer.from('{}'),
      requestId: 'r1',
    });
    expect(refused).toMatchObject({ status: 'error', error: { code: 'RESOURCE_LIMIT' } });
    expect(refused.logs).toEqual([
      { level: 'info', message: 'writing a lot', atMs: 1 },
      {
        level: 'error',
        message: expect.stringMatching(/^the kernel ended this execution: RESOURCE_LIMIT: .*MAX_STATE_BYTES/),
        atMs: expect.any(Number),
      },
    ]);
    const fine = await run(target);
    expect(fine.logs).toEqual([{ level: 'info', message: 'fine', atMs: 0 }]);
    await logs.idle(1000);
    expect(shipped).toEqual([
      {
        id: 'p',
        lines: [
          expect.objectContaining({
            message: 'writing a lot',
            source: 'handler',
            tool: 't',
            requestId: 'r1',
          }),
          expect.objectContaining({ level: 'error', source: 'kernel', kind: 'tool', requestId: 'r1' }),
        ],
      },
      { id: 'p', lines: [expect.objectContaining({ message: 'fine', source: 'handler' })] },
    ]);
  });
});
