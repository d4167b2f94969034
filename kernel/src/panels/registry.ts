// The panels every kernel of the store serves: create (validate, compile, mount, admit), load
// (from the cache, checked against the store), list, read and delete (unmount). The store is the
// truth; this kernel keeps compiled panels and the last state it saw in a cache bounded in bytes
// by PANEL_CACHE_MAX_BYTES, least recently used first out. Every change it makes or learns of is
// announced on `changes` (changes.ts): the cache and the live feeds listen.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { HandlerCompilationError } from '../sandbox/types.js';
import type {
  PanelLifecycle,
  PanelReads,
  PanelSummary,
  RevisionRecord,
  StateSnapshot,
  StoredPanel,
} from '../store/types.js';
import { PanelExistsError } from '../store/types.js';
import { stateBytes } from '../store/types.js';
import type { BytecodeCache } from './bytecode-cache.js';
import { PanelChanges } from './changes.js';
import {
  PANEL_ID,
  PANEL_ID_RULE,
  invalidDefinition,
  type PanelDefinition,
  parsePanelDefinition,
  readPanelDefinition,
} from './definition.js';
import { prepareSchema, type SchemaValidator } from '../schemas/validator.js';
import {
  type ExecutionOutcome,
  type Executor,
  StaleDefinitionError,
  type SwitchOutcome,
} from './executor.js';
import { type CachedState, type HandlerSpec, Panel, type ToolSpec } from './panel.js';
import { entriesOf } from './state.js';

export interface RegistryOptions {
  readonly maxStateBytes: number;
  readonly defaultTimeoutMs: number;
  readonly cacheMaxBytes: number;
  /** How long a panel may take to mount before its reservation lapses. */
  readonly mountTtlMs: number;
  /**
   * How long a panel stays marked deleting before the store removes it by itself (twice
   * EXECUTION_DEADLINE_MS — the unmount may wait that long for the panel, then run that long —
   * plus DELETE_MARK_MARGIN_MS): a kernel that dies during a delete leaves nothing for longer.
   */
  readonly deleteTtlMs: number;
  readonly extensions: {
    names: string[];
    registryFor(allowed: readonly string[]): Record<string, readonly string[]>;
  };
}

export interface DeleteOutcome {
  readonly id: string;
  readonly unmount?: ExecutionOutcome;
}

/** What the registry needs of the store. */
export type RegistryStore = PanelLifecycle & PanelReads;

export class PanelRegistry {
  /** Created, updated, deleted: whichever way the panel changed. */
  readonly changes: PanelChanges;
  private readonly cache = new Map<string, Panel>();
  private cachedBytes = 0;
  private readonly loading = new Map<string, Promise<Panel>>();
  private executor!: Executor;
  private lastCount: number | undefined;

  constructor(
    private readonly options: RegistryOptions,
    private readonly store: RegistryStore,
    private readonly bytecode: BytecodeCache,
    private readonly schemas: SchemaValidator,
    private readonly logger: Logger,
  ) {
    this.changes = new PanelChanges(logger);
    // The cache listens like everyone else: a panel changed elsewhere is compiled anew when next used.
    this.changes.on((change) => {
      if (change.kind !== 'created') this.evict(change.id);
    });
  }

  /** The executor runs mount/unmount; it needs the registry's panels in turn. */
  useExecutor(executor: Executor): void {
    this.executor = executor;
  }

  /** The number of panels the store held when last asked (refreshed by refreshCount()). */
  get knownCount(): number | undefined {
    return this.lastCount;
  }

  get cacheBytes(): number {
    return this.cachedBytes;
  }

  async refreshCount(): Promise<void> {
    this.lastCount = await this.store.count();
  }

  /**
   * The panel, ready to run. `verify` (the default) asks the store that it still exists and for
   * its latest state; triggers skip it, since their lease answers both.
   */
  async get(id: string, options: { verify?: boolean; phases?: readonly string[] } = {}): Promise<Panel> {
    const phases = options.phases ?? ['ready'];
    const cached = this.cache.get(id);
    if (cached !== undefined) {
      this.touch(cached);
      if (options.verify === false) return cached;
      const read = await this.store.readState(id, cached.state.snapshot);
      if (read === 'gone' || !phases.includes(read.phase)) {
        // Gone without this kernel hearing of it (its feed was not followed, or missed it).
        if (read === 'gone') this.removed(id);
        throw notFound(id);
      }
      if (
        read.state === undefined ||
        (read.state.epoch === cached.epoch && read.state.revision === cached.revision)
      ) {
        if (read.state !== undefined) cached.observe(read.state);
        return cached;
      }
      this.changes.announce({ kind: 'updated', id });
    }
    let load = this.loading.get(id);
    if (load === undefined) {
      load = this.load(id, phases);
      this.loading.set(id, load);
      const forget = (): void => {
        this.loading.delete(id);
      };
      load.then(forget, forget);
    }
    return load;
  }

  /** The latest state of a panel (for GET /state, CONNECTED and SNAPSHOT). */
  async state(id: string): Promise<{ panel: Panel; state: CachedState }> {
    const panel = await this.get(id);
    return { panel, state: panel.state };
  }

  /** The latest state, or 'gone' (subscriptions' greetings). */
  async latest(id: string): Promise<CachedState | 'gone'> {
    try {
      return (await this.get(id)).state;
    } catch (error) {
      if (error instanceof KernelError && error.code === 'PANEL_NOT_FOUND') return 'gone';
      throw error;
    }
  }

  list(): Promise<PanelSummary[]> {
    return this.store.list();
  }

  /** Validates, compiles and mounts a new panel; throws KernelError for every client mistake. */
  async create(body: unknown): Promise<{ panel: Panel; mount?: ExecutionOutcome }> {
    return this.createAs(randomUUID(), await this.validate(body));
  }

  /**
   * PUT /panels/:id: creates the panel under the client's id, or switches it to this definition
   * (every handler compiled first, the upgrade handler run with the old state, all in one step on
   * every kernel: Executor.switchDefinition). The same definition again changes nothing, so a
   * retried PUT is one revision. `ifMatch` is the revision the client expects the panel to be at.
   */
  async put(id: string, body: unknown, ifMatch?: RevisionMatch): Promise<PutOutcome> {
    if (!PANEL_ID.test(id)) {
      throw new KernelError('INVALID_PANEL_ID', `the panel id "${id.slice(0, 140)}" is not ${PANEL_ID_RULE}`);
    }
    const definition = await this.validate(body);
    const text = JSON.stringify(definition);
    // A concurrent PUT may win each round; one that keeps losing is told to retry.
    for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt += 1) {
      const stored = await this.store.get(id);
      if (stored === undefined) {
        if (ifMatch !== undefined) throw preconditionFailed(id, ifMatch, undefined);
        try {
          return { kind: 'created', ...(await this.createAs(id, definition)) };
        } catch (error) {
          if (error instanceof PanelExistsError) continue;
          throw error;
        }
      }
      if (stored.phase !== 'ready') {
        if (stored.phase === 'deleting') throw notFound(id);
        throw new KernelError('PANEL_BUSY', `panel "${id}" is being created by another request; retry`);
      }
      if (ifMatch !== undefined && !ifMatch.matches(stored.revision))
        throw preconditionFailed(id, ifMatch, stored.revision);
      if (stored.definition === text) return { kind: 'unchanged', panel: await this.get(id) };
      const switched = await this.switchTo(id, stored, definition, text, ifMatch);
      if (switched !== 'moved') return switched;
    }
    throw new KernelError(
      'PANEL_BUSY',
      `panel "${id}" kept changing while this definition was applied; retry`,
    );
  }

  /** POST /panels/:id/rollback: a PUT of a kept revision's definition (a new revision, state kept). */
  async rollback(id: string, revision: number, ifMatch?: RevisionMatch): Promise<PutOutcome> {
    const kept = await this.revision(id, revision);
    return this.put(id, JSON.parse(kept.definition) as unknown, ifMatch);
  }

  /** The definitions the panel keeps, oldest first. */
  async revisions(id: string): Promise<RevisionRecord[]> {
    const kept = await this.store.revisions(id);
    if (kept === 'gone') throw notFound(id);
    return kept;
  }

  async revision(id: string, revision: number): Promise<RevisionRecord> {
    const found = (await this.revisions(id)).find((kept) => kept.revision === revision);
    if (found === undefined) {
      throw new KernelError(
        'REVISION_NOT_FOUND',
        `panel "${id}" keeps no revision ${revision} (it keeps the last PANEL_REVISIONS)`,
      );
    }
    return found;
  }

  /** Compiles the new definition and switches the panel to it; 'moved' when another change won. */
  private async switchTo(
    id: string,
    stored: StoredPanel,
    definition: PanelDefinition,
    text: string,
    ifMatch: RevisionMatch | undefined,
  ): Promise<PutOutcome | 'moved'> {
    const current = await this.get(id);
    const next = await this.build(
      id,
      current.epoch,
      stored.revision + 1,
      definition,
      text,
      current.createdAt,
      {
        ...current.state.snapshot,
        revision: stored.revision + 1,
      },
    );
    let outcome: SwitchOutcome;
    try {
      outcome = await this.executor.switchDefinition({
        current,
        next,
        baseRevision: stored.revision,
        change: {
          text,
          title: definition.title,
          tools: Object.keys(definition.tools),
          createdAt: new Date().toISOString(),
        },
      });
    } catch (error) {
      this.releaseBytecode(next);
      throw error;
    }
    if (outcome.status === 'moved') {
      this.releaseBytecode(next);
      if (ifMatch !== undefined && !ifMatch.matches(outcome.revision))
        throw preconditionFailed(id, ifMatch, outcome.revision);
      return 'moved';
    }
    // Every kernel learns of it from the store when it next leases the panel; this one now.
    this.changes.announce({ kind: 'updated', id });
    this.admit(next);
    return outcome.upgrade === undefined
      ? { kind: 'updated', panel: next }
      : { kind: 'updated', panel: next, upgrade: outcome.upgrade };
  }

  /** Shape, bounds and argument schemas, every problem named in one refusal. */
  private async validate(body: unknown): Promise<PanelDefinition> {
    const read = readPanelDefinition(body, this.limits());
    const problems = [...read.problems];
    // A schema already refused (too large, too deep) is never compiled; the others are, so one
    // answer names every problem.
    const refused = new Set(problems.map((problem) => problem.path));
    if (read.definition !== undefined)
      problems.push(...(await this.schemaProblems(read.definition, refused)));
    if (read.definition === undefined || problems.length > 0) throw invalidDefinition(problems);
    return read.definition;
  }

  private async createAs(
    id: string,
    definition: PanelDefinition,
  ): Promise<{ panel: Panel; mount?: ExecutionOutcome }> {
    const entries = entriesOf(definition.state);
    const bytes = stateBytes(entries);
    if (bytes > this.options.maxStateBytes) {
      throw new KernelError('VALIDATION_FAILED', 'the initial state is larger than MAX_STATE_BYTES', [
        {
          path: '/state',
          message: `${bytes} bytes as JSON; at most ${this.options.maxStateBytes} (MAX_STATE_BYTES)`,
        },
      ]);
    }
    const epoch = randomUUID();
    const createdAt = new Date().toISOString();
    const definitionText = JSON.stringify(definition);
    const panel = await this.build(id, epoch, 1, definition, definitionText, createdAt, {
      version: 0,
      epoch,
      revision: 1,
      entries,
      bytes,
    });
    try {
      await this.store.create(
        {
          id,
          epoch,
          definition: definitionText,
          title: definition.title,
          tools: Object.keys(definition.tools),
          state: entries,
          createdAt,
        },
        this.options.mountTtlMs,
      );
    } catch (error) {
      this.releaseBytecode(panel);
      throw error;
    }
    let mount: ExecutionOutcome | undefined;
    try {
      if (panel.lifecycle.mount) {
        mount = await this.executor.run({
          panel,
          handler: panel.lifecycle.mount,
          kind: 'mount',
          argsJson: NO_ARGS,
        });
        if (mount.status === 'error') {
          throw new KernelError(
            'MOUNT_FAILED',
            `the mount handler failed: ${mount.error?.code ?? 'ERROR'}: ${mount.error?.message ?? ''}`,
            // The panel is discarded, its ring with it: the mount's lines go back in the answer.
            { error: mount.error, logs: mount.logs },
          );
        }
      }
      await this.store.admit(id);
    } catch (error) {
      this.releaseBytecode(panel);
      await this.store
        .discard(id)
        .catch((cause: unknown) =>
          this.logger.warn({ panelId: id, err: cause }, 'could not discard a panel whose creation failed'),
        );
      throw error;
    }
    this.admit(panel);
    if (this.lastCount !== undefined) this.lastCount += 1;
    this.changes.announce({ kind: 'created', id });
    return mount === undefined ? { panel } : { panel, mount };
  }

  async delete(id: string): Promise<DeleteOutcome> {
    if (!(await this.store.beginDelete(id, this.options.deleteTtlMs))) throw notFound(id);
    let unmount: ExecutionOutcome | undefined;
    try {
      unmount = await this.unmount(id);
    } catch (error) {
      this.logger.error({ panelId: id, err: error }, 'unmount handler could not run');
    }
    await this.store.finishDelete(id);
    if (this.lastCount !== undefined) this.lastCount = Math.max(0, this.lastCount - 1);
    this.changes.announce({ kind: 'deleted', id });
    return unmount === undefined ? { id } : { id, unmount };
  }

  /** Runs the current definition's unmount handler, if it has one. */
  private async unmount(id: string): Promise<ExecutionOutcome | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const panel = await this.get(id, { phases: ['deleting'] });
      if (!panel.lifecycle.unmount) return undefined;
      try {
        return await this.executor.run({
          panel,
          handler: panel.lifecycle.unmount,
          kind: 'unmount',
          argsJson: NO_ARGS,
        });
      } catch (error) {
        if (!(error instanceof StaleDefinitionError) || attempt >= 3) throw error;
        this.outdated(panel, error.revision);
      }
    }
  }

  /**
   * The store says the panel is gone (another kernel deleted it, or the store removed it once its
   * deleting mark lapsed): announced like a deletion made here.
   */
  removed(id: string): void {
    this.changes.announce({ kind: 'deleted', id });
  }

  /**
   * An execution found the panel at `revision` under its lease, not at the cached one's: the
   * panel changed on another kernel. It is loaded again when next used.
   */
  outdated(panel: Panel, revision: number): void {
    if (this.cache.get(panel.id) === panel && panel.revision !== revision)
      this.changes.announce({ kind: 'updated', id: panel.id });
  }

  /** Forgets a cached panel (changed or gone, or to make room). */
  evict(id: string): void {
    const panel = this.cache.get(id);
    if (panel === undefined) return;
    this.cache.delete(id);
    this.cachedBytes -= panel.footprint;
    panel.onResize = () => {};
    this.releaseBytecode(panel);
  }

  /** Analyses and compiles each tool's argument schema on a schema worker; the problems of the first refused. */
  private async schemaProblems(
    definition: PanelDefinition,
    refused: ReadonlySet<string>,
  ): Promise<{ path: string; message: string }[]> {
    const problems: { path: string; message: string }[] = [];
    for (const [name, tool] of Object.entries(definition.tools)) {
      if (tool.args === undefined || refused.has(`/tools/${name}/args`)) continue;
      const found = await this.schemas.compile(prepareSchema(tool.args));
      if (found.length > 0) {
        // One refused schema is enough: a definition full of costly schemas costs one budget.
        const base = `/tools/${name}/args`;
        problems.push(
          ...found.map((problem) => ({
            ...problem,
            path: problem.path === '/' ? base : `${base}${problem.path}`,
          })),
        );
        break;
      }
    }
    return problems;
  }

  private limits() {
    return { maxTimeoutMs: this.options.defaultTimeoutMs, extensions: this.options.extensions.names };
  }

  private parse(body: unknown): PanelDefinition {
    return parsePanelDefinition(body, this.limits());
  }

  private async load(id: string, phases: readonly string[]): Promise<Panel> {
    const stored = await this.store.get(id);
    if (stored === undefined || !phases.includes(stored.phase)) throw notFound(id);
    const read = await this.store.readState(id);
    if (read === 'gone' || read.state === undefined) throw notFound(id);
    const panel = await this.fromStore(stored, read.state);
    this.admit(panel);
    return panel;
  }

  private async fromStore(stored: StoredPanel, state: StateSnapshot): Promise<Panel> {
    let definition: PanelDefinition;
    try {
      definition = this.parse(JSON.parse(stored.definition));
    } catch (error) {
      // Stored by a kernel with other limits (a longer TIMEOUT_MS, another extension list).
      this.logger.error({ panelId: stored.id, err: error }, 'a stored panel definition is not valid here');
      throw new KernelError(
        'INTERNAL_ERROR',
        `panel "${stored.id}" cannot be served by this kernel: ${(error as Error).message}`,
      );
    }
    return this.build(
      stored.id,
      stored.epoch,
      stored.revision,
      definition,
      stored.definition,
      stored.createdAt,
      state,
    );
  }

  private admit(panel: Panel): void {
    const previous = this.cache.get(panel.id);
    if (previous === panel) return;
    if (previous !== undefined) this.evict(panel.id);
    this.cache.set(panel.id, panel);
    this.cachedBytes += panel.footprint;
    panel.onResize = (delta) => {
      if (this.cache.get(panel.id) !== panel) return;
      this.cachedBytes += delta;
      this.trim();
    };
    this.trim();
  }

  private touch(panel: Panel): void {
    this.cache.delete(panel.id);
    this.cache.set(panel.id, panel);
  }

  private trim(): void {
    for (const [id] of this.cache) {
      if (this.cachedBytes <= this.options.cacheMaxBytes || this.cache.size <= 1) break;
      this.evict(id);
    }
  }

  private async build(
    id: string,
    epoch: string,
    revision: number,
    definition: PanelDefinition,
    definitionText: string,
    createdAt: string,
    state: StateSnapshot,
  ): Promise<Panel> {
    const acquired: string[] = [];
    const compile = async (
      name: string,
      path: string,
      spec: { handler: string; capabilities: string[]; timeoutMs?: number | undefined },
    ): Promise<HandlerSpec> => {
      try {
        const { hash, bytecode } = await this.bytecode.acquire(spec.handler);
        acquired.push(hash);
        return {
          name,
          hash,
          bytecode,
          capabilities: spec.capabilities,
          timeoutMs: spec.timeoutMs ?? this.options.defaultTimeoutMs,
        };
      } catch (error) {
        if (error instanceof HandlerCompilationError) {
          throw new KernelError('COMPILATION_ERROR', `${path}/handler: ${error.message}`, {
            path: `${path}/handler`,
            message: error.message,
            ...(error.location ? { line: error.location.line, column: error.location.column } : {}),
          });
        }
        throw error;
      }
    };
    try {
      const tools = new Map<string, ToolSpec>();
      for (const [name, tool] of Object.entries(definition.tools)) {
        const spec = await compile(name, `/tools/${name}`, tool);
        tools.set(name, tool.args === undefined ? spec : { ...spec, argsSchema: prepareSchema(tool.args) });
      }
      const lifecycle: { mount?: HandlerSpec; unmount?: HandlerSpec; upgrade?: HandlerSpec } = {};
      if (definition.lifecycle.mount)
        lifecycle.mount = await compile('mount', '/lifecycle/mount', definition.lifecycle.mount);
      if (definition.lifecycle.unmount)
        lifecycle.unmount = await compile('unmount', '/lifecycle/unmount', definition.lifecycle.unmount);
      if (definition.lifecycle.upgrade)
        lifecycle.upgrade = await compile('upgrade', '/lifecycle/upgrade', definition.lifecycle.upgrade);
      return new Panel({
        id,
        epoch,
        revision,
        definition,
        definitionText,
        tools,
        lifecycle,
        extensionRegistry: this.options.extensions.registryFor(definition.extensions),
        createdAt,
        state,
      });
    } catch (error) {
      for (const hash of acquired) this.bytecode.release(hash);
      throw error;
    }
  }

  private releaseBytecode(panel: Panel): void {
    for (const handler of panel.handlers()) this.bytecode.release(handler.hash);
  }
}

/**
 * How long past the unmount's deadlines (2 × EXECUTION_DEADLINE_MS) a panel's deleting mark lasts:
 * time for the kernel to remove the panel after its unmount ended. Past it, the store removes
 * the panel by itself (its kernel died during the delete).
 */
export const DELETE_MARK_MARGIN_MS = 10_000;

/** Lifecycle handlers take no arguments. */
const NO_ARGS = Buffer.from('{}');

/** Rounds a PUT may lose to concurrent changes of the same panel before it is told to retry. */
const PUT_ATTEMPTS = 5;

/** What an `If-Match` header asks for: `*` (any current revision) or some revisions. */
export interface RevisionMatch {
  readonly header: string;
  matches(revision: number): boolean;
}

export type PutOutcome =
  | { readonly kind: 'created'; readonly panel: Panel; readonly mount?: ExecutionOutcome }
  | { readonly kind: 'updated'; readonly panel: Panel; readonly upgrade?: ExecutionOutcome }
  | { readonly kind: 'unchanged'; readonly panel: Panel };

function preconditionFailed(id: string, ifMatch: RevisionMatch, current: number | undefined): KernelError {
  return new KernelError(
    'PRECONDITION_FAILED',
    current === undefined
      ? `If-Match ${ifMatch.header} needs panel "${id}" to exist; it does not, and nothing changed`
      : `If-Match ${ifMatch.header} does not match panel "${id}"'s revision ${current} (ETag "${current}"); nothing changed`,
    current === undefined ? undefined : { revision: current },
  );
}

function notFound(id: string): KernelError {
  return new KernelError('PANEL_NOT_FOUND', `no panel with id "${id}"`);
}
