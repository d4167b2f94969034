// The execution loop of a handler (SPEC 4 suspend/resume, SPEC 6 panel state). Each run of the
// sandbox up to an `$ext` await, between awaits, or to the end is a segment, and a segment is
// atomic against the panel's latest state across every kernel of the store (a segment that ends
// in an error commits nothing):
//
//   gate and instance (this kernel, gate.ts) → lease (the store, every kernel) → the panel's
//   latest state → the sandbox runs the segment → commit (apply, version, history, publish) →
//   release
//
// Between segments only the instance is held (a parked handler keeps it in the sandbox): the
// extension call runs, other executions change the panel, and the resumed segment reads their
// changes. A new execution waits at most EXECUTION_DEADLINE_MS to start (past it: a retryable
// 429/503, nothing ran), then has EXECUTION_DEADLINE_MS from its start, waits for its panel
// between segments included; no wait counts against the handler's own time budget.

import type { Logger } from 'pino';
import type { ExtensionHost } from '../extensions/host.js';
import { KernelError, isKernelError } from '../errors.js';
import { logHandlerLines } from '../logger.js';
import { kernelLine, requestIdOf, ringLines } from './execution-logs.js';
import type { LogShipper } from './log-shipper.js';
import { ServerMessageType } from '../messages.js';
import {
  type EmittedEvent,
  type HandlerError,
  type LogLine,
  type ResumeOutcome,
  type Sandbox,
  type SandboxResult,
  SuspensionLostError,
  type ViewCommand,
} from '../sandbox/types.js';
import {
  type CommitResult,
  type DefinitionChange,
  LeaseTimeoutError,
  type PanelEvents,
  type PanelLeases,
  type RequestRecordWrite,
  type SegmentWrite,
  type StoredMutation,
} from '../store/types.js';
import type { Feeds } from './feed.js';
import { type PanelGates, StartTimeoutError, type Ticket } from './gate.js';
import type { CachedState, HandlerSpec, Panel } from './panel.js';
import {
  finishedRecord,
  parseRecord,
  type RequestIdentity,
  type RequestRecord,
  recordText,
  replayOf,
} from './requests.js';
import { applied, patchFrame, revisionFrame, storedMutations } from './state.js';

export type { HandlerKind } from '../metrics.js';
import type { HandlerKind } from '../metrics.js';

export interface ExecutionRequest {
  readonly panel: Panel;
  readonly handler: HandlerSpec;
  readonly kind: HandlerKind;
  /** The arguments as JSON text (trigger.ts checks their shape and depth first). */
  readonly argsJson: Buffer;
  /** The WebSocket requestId that asked for this run, echoed in PROGRESS messages. */
  readonly requestId?: string;
  /**
   * The client's idempotency key and what it stands for: the execution's outcome is recorded
   * under it, and a retry is answered from the record (requests.ts).
   */
  readonly identity?: RequestIdentity;
  /**
   * Called once the execution holds its instance and its panel's gate, before anything runs:
   * throwing refuses it, nothing applied (the HTTP layer refuses while too many answers wait for
   * their readers).
   */
  readonly beforeStart?: () => void;
  /**
   * Where the handler's log lines go besides the outcome: the caller's logger, carrying its request
   * id (ExecutorDependencies.logger when absent).
   */
  readonly logger?: Logger;
}

/** Values are the JSON text the sandbox handed over (views.ts splices them into responses). */
export interface ExecutionOutcome {
  status: 'success' | 'error';
  /** The return value's JSON text; absent when the handler returned undefined. */
  returnValueJson?: string;
  /** The net change of each committed segment, in order (what its PATCH carried). */
  stateMutations: StoredMutation[];
  events: EmittedEvent[];
  viewCommands: ViewCommand[];
  error?: HandlerError;
  /**
   * The handler's log lines over every segment, in order: what the sandbox kept (its bounds are
   * per execution), a marker for each result that dropped lines, and the error that ended it.
   */
  logs: LogLine[];
  /** The panel's state version after the last segment of this execution was applied. */
  version: number;
  /**
   * Set when this is a retry answered from its idempotency record: nothing ran, and the outcome
   * carries the first attempt's status, return value (unless `returnValueOmitted`), error and
   * version, but none of its mutations, events, view commands or logs (the first answer had them).
   */
  replayed?: { readonly returnValueOmitted: boolean };
  metrics: {
    durationUs: number;
    cpuTimeUs: number;
    wallTimeMs: number;
    memoryPeakBytes: number;
    hostCalls: number;
    suspensions: number;
    cacheHit: boolean;
    compilationTimeUs: number;
  };
}

export type ExecutionObserver = (
  kind: HandlerKind,
  handler: string,
  status: 'success' | 'error',
  seconds: number,
) => void;

export interface ExecutorDependencies {
  readonly sandbox: Pick<Sandbox, 'execute' | 'resume' | 'cancel'>;
  readonly extensions: Pick<ExtensionHost, 'invoke'>;
  readonly store: PanelLeases & PanelEvents;
  /** Shares the sandbox's instances between panels and admits one segment per panel at a time. */
  readonly gates: PanelGates;
  readonly feeds: Feeds;
  readonly deadlineMs: number;
  readonly maxStateBytes: number;
  readonly observe?: ExecutionObserver;
  /** The kernel's log, which records every handler line (ExecutionRequest.logger overrides it). */
  readonly logger?: Logger;
  /** Carries each execution's lines to its panel's log ring (none: no ring). */
  readonly logs?: LogShipper;
  /** Idempotency records: how long they answer retries, the largest return value they keep. */
  readonly requestRecords?: { readonly ttlMs: number; readonly resultBytes: number };
}

/** IDEMPOTENCY_TTL_SECONDS and IDEMPOTENCY_RESULT_BYTES' defaults. */
const REQUEST_RECORDS = { ttlMs: 3_600_000, resultBytes: 1024 } as const;

/** A switch to a new definition (PUT /panels/:id), compiled by the registry. */
export interface SwitchRequest {
  /** The panel as this kernel holds it now. */
  readonly current: Panel;
  /** The new definition, compiled, at revision baseRevision + 1. */
  readonly next: Panel;
  /** The revision the new definition replaces: the switch happens only if the panel is still at it. */
  readonly baseRevision: number;
  readonly change: DefinitionChange;
}

export type SwitchOutcome =
  | { readonly status: 'switched'; readonly version: number; readonly upgrade?: ExecutionOutcome }
  /** The panel was at another revision by the time it was leased: nothing changed. */
  | { readonly status: 'moved'; readonly revision: number };

/**
 * The first segment leased the panel at another revision than the definition it was about to
 * run (another kernel switched it): nothing ran, and the caller starts again on the current one.
 */
export class StaleDefinitionError extends Error {
  constructor(
    readonly panelId: string,
    readonly revision: number,
  ) {
    super(`panel "${panelId}" is at revision ${revision}`);
    this.name = 'StaleDefinitionError';
  }
}

/** How a segment ended, before the loop decides what comes next. */
type SegmentEnd =
  | { readonly kind: 'ran'; readonly result: SandboxResult }
  | { readonly kind: 'failed'; readonly error: HandlerError }
  /** The first segment found the request's record: it ran before, nothing runs now. */
  | { readonly kind: 'recorded'; readonly record: RequestRecord };

const failedWith = (code: string, message: string): SegmentEnd => ({
  kind: 'failed',
  error: { code, message },
});

export class Executor {
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: ExecutorDependencies) {}

  /** Executions started and not yet finished. */
  get inFlight(): number {
    return this.running.size;
  }

  /** New executions waiting to start (for their panel or a sandbox instance). */
  get queued(): number {
    return this.deps.gates.queued;
  }

  run(request: ExecutionRequest): Promise<ExecutionOutcome> {
    const execution = this.execute(request);
    this.running.add(execution);
    const forget = (): void => {
      this.running.delete(execution);
    };
    execution.then(forget, forget);
    return execution;
  }

  /** Resolves true once no execution is running, or false when `timeoutMs` passes first. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      });
      await Promise.race([Promise.allSettled([...this.running]), timeout]);
      clearTimeout(timer);
    }
    return true;
  }

  private async execute(request: ExecutionRequest): Promise<ExecutionOutcome> {
    const started = performance.now();
    const outcome = newOutcome(request.panel.state.version);
    const ticket = await this.admit(request.panel.id, Date.now() + this.deps.deadlineMs);
    // The execution's own deadline starts when it does, as the sandbox's does: time spent
    // waiting to start is the queue's, and bounded on its own above.
    const deadline = Date.now() + this.deps.deadlineMs;
    const startedAt = deadline - this.deps.deadlineMs;
    // The suspension this execution holds in the sandbox, to be cancelled (freeing its instance)
    // if the execution ends without resuming it.
    const held: { parked?: string } = {};
    try {
      request.beforeStart?.();
      let resume: { suspensionId: string; value: ResumeOutcome } | undefined;
      for (;;) {
        const end = await this.segment(request, ticket, resume, deadline, outcome, held);
        if (end.kind === 'recorded') return replayed(end.record, request.identity!);
        if (end.kind === 'failed') return this.finish(request, outcome, started, end.error, startedAt, true);
        const { result } = end;
        if (result.status !== 'suspended') {
          if (result.status === 'success' && result.returnValueJson !== undefined)
            outcome.returnValueJson = result.returnValueJson;
          return this.finish(request, outcome, started, result.error, startedAt);
        }
        const suspension = result.suspension;
        if (suspension === undefined) {
          return this.finish(
            request,
            outcome,
            started,
            { code: 'INTERNAL_ERROR', message: 'the sandbox reported a suspension without its details' },
            startedAt,
            true,
          );
        }
        outcome.metrics.suspensions += 1;
        await this.progress(request, suspension);
        const value = await this.deps.extensions.invoke(
          request.panel.extensions,
          suspension.extensionName,
          suspension.method,
          // Bounded by the sandbox's value budget; the extension needs the arguments as values.
          JSON.parse(suspension.argsJson) as unknown[],
        );
        if (Date.now() > deadline) {
          return this.finish(
            request,
            outcome,
            started,
            {
              code: 'TIMEOUT',
              message: `the execution ran longer than EXECUTION_DEADLINE_MS (${this.deps.deadlineMs} ms)`,
            },
            startedAt,
            true,
          );
        }
        resume = { suspensionId: suspension.suspensionId, value };
      }
    } catch (error) {
      // Refused after the handler ran (its first segment was fenced off, say): its lines still
      // reach the ring, with the kernel's reason.
      if (outcome.logs.length > 0) this.shipLogs(request, outcome, startedAt, error);
      throw error;
    } finally {
      if (held.parked !== undefined) this.deps.sandbox.cancel(held.parked);
      ticket.end();
    }
  }

  /**
   * Waits for an instance and the panel's gate (gate.ts shares instances between panels). Nothing
   * has run yet, so a wait that outlasts the deadline is a retryable refusal, never a failed
   * execution: 429 PANEL_BUSY when other executions of this panel held it, 503 OVERLOADED when
   * the kernel had no instance free.
   */
  private async admit(panelId: string, deadline: number): Promise<Ticket> {
    try {
      return await this.deps.gates.start(panelId, deadline);
    } catch (error) {
      if (!(error instanceof StartTimeoutError)) throw error;
      throw error.awaited === 'panel'
        ? new KernelError(
            'PANEL_BUSY',
            `panel "${panelId}" stayed busy with other executions for EXECUTION_DEADLINE_MS (${this.deps.deadlineMs} ms); nothing of this one ran`,
          )
        : new KernelError(
            'OVERLOADED',
            `no sandbox instance became free within EXECUTION_DEADLINE_MS (${this.deps.deadlineMs} ms); nothing of this execution ran`,
          );
    }
  }

  /** Runs one segment under the panel's gate and lease and commits what it wrote. */
  private async segment(
    request: ExecutionRequest,
    ticket: Ticket,
    resume: { suspensionId: string; value: ResumeOutcome } | undefined,
    deadline: number,
    outcome: ExecutionOutcome,
    held: { parked?: string },
  ): Promise<SegmentEnd> {
    const { panel, handler } = request;
    const first = resume === undefined;
    if (!first) {
      try {
        // A resumed handler holds its instance: it goes before new executions of its panel.
        await ticket.resume(deadline);
      } catch (error) {
        if (error instanceof LeaseTimeoutError)
          return failedWith('TIMEOUT', waitedTooLong(this.deps.deadlineMs));
        return failedWith(codeOf(error), (error as Error).message);
      }
    }
    let commit: CommitResult;
    let write: SegmentWrite;
    let result: SandboxResult;
    let state: CachedState;
    try {
      let lease;
      try {
        lease = await this.deps.store.lease(
          panel.id,
          panel.state.snapshot,
          deadline,
          first ? request.identity?.key : undefined,
        );
      } catch (error) {
        if (error instanceof LeaseTimeoutError) {
          if (first) throw busyElsewhere(panel.id, this.deps.deadlineMs);
          return failedWith('TIMEOUT', waitedTooLong(this.deps.deadlineMs));
        }
        if (first) throw error;
        return failedWith(codeOf(error), (error as Error).message);
      }
      if (lease === 'gone' || (request.kind === 'tool' && lease.phase !== 'ready')) {
        if (lease !== 'gone') await lease.release();
        if (first) throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${panel.id}"`);
        return failedWith('PANEL_NOT_FOUND', `panel "${panel.id}" was deleted while the handler ran`);
      }
      if (first && lease.recorded !== undefined) {
        await lease.release();
        return { kind: 'recorded', record: parseRecord(lease.recorded) };
      }
      // An execution starts on the panel's current definition, whichever kernel switched it: the
      // lease reads the revision in the same step that excludes a switch. One already under way
      // keeps the code it started with (its later segments do not ask).
      if (first && lease.revision !== panel.revision) {
        await lease.release();
        throw new StaleDefinitionError(panel.id, lease.revision);
      }
      state = lease.state === undefined ? panel.state : panel.observe(lease.state);
      delete held.parked;
      try {
        result = first
          ? await this.deps.sandbox.execute(
              handler.bytecode,
              {
                panelId: panel.id,
                handlerName: handler.name,
                stateJson: state.bytes,
                argsJson: request.argsJson,
                capabilities: handler.capabilities,
                scope: { panelId: panel.id, handler: handler.name, kind: request.kind },
                extensionRegistry: panel.extensionRegistry,
              },
              handler.timeoutMs,
            )
          : await this.deps.sandbox.resume(resume.suspensionId, resume.value, state.bytes);
      } catch (error) {
        await lease.release();
        if (error instanceof SuspensionLostError) {
          return failedWith('TIMEOUT', `the handler expired while waiting (${error.message})`);
        }
        throw error;
      }
      if (result.status === 'suspended' && result.suspension) held.parked = result.suspension.suspensionId;
      this.account(request, outcome, result, first);
      if (result.status === 'error') {
        // A segment that ends in an error commits nothing: no version, no PATCH, no events. The
        // handler's writes up to the failure were a half-done change; the segments before its
        // last `$ext` await completed and stay committed (and a keyed request records how it
        // ended, so a retry does not apply them again).
        const record = first ? undefined : this.requestRecord(request, lease, result, 0, deadline);
        if (record === undefined) await lease.release();
        else await this.committed(request, lease.commit({ ...NO_WRITES, request: record }));
        outcome.version = lease.version;
        return { kind: 'ran', result };
      }
      write = segmentWrite(panel.id, state.snapshot.entries, result);
      const record = this.requestRecord(request, lease, result, write.mutations.length, deadline);
      if (record !== undefined) write = { ...write, request: record };
      commit =
        write.mutations.length === 0 && write.eventFrames.length === 0 && record === undefined
          ? (await lease.release(),
            { status: 'ok', version: lease.version, bytes: state.snapshot.bytes, revision: lease.revision })
          : await this.committed(request, lease.commit(write));
    } catch (error) {
      if (first) throw error;
      return failedWith(codeOf(error), (error as Error).message);
    } finally {
      ticket.leave();
    }
    return this.applied(request, first, state, write, commit, result, outcome);
  }

  /**
   * The record a keyed request's commit leaves: running until the segment that ends the
   * execution, whose record is its outcome. The version is the one the commit makes: the
   * lease's, plus one when it writes anything (a commit applies under its lease, or not at all).
   */
  private requestRecord(
    request: ExecutionRequest,
    lease: { readonly version: number; readonly revision: number },
    result: SandboxResult,
    mutations: number,
    deadline: number,
  ): RequestRecordWrite | undefined {
    const identity = request.identity;
    if (identity === undefined) return undefined;
    const { ttlMs, resultBytes } = this.deps.requestRecords ?? REQUEST_RECORDS;
    const version = lease.version + (mutations > 0 ? 1 : 0);
    const { revision } = lease;
    const record: RequestRecord =
      result.status === 'suspended'
        ? {
            fingerprint: identity.fingerprint,
            status: 'running',
            version,
            revision,
            // A resumed segment may start up to the deadline and run its handler's time.
            until: deadline + request.handler.timeoutMs + RUNNING_MARGIN_MS,
          }
        : finishedRecord(
            identity,
            {
              status: result.status,
              version,
              revision,
              ...(result.returnValueJson === undefined ? {} : { returnValueJson: result.returnValueJson }),
              ...(result.error === undefined ? {} : { error: result.error }),
            },
            resultBytes,
          );
    return { key: identity.key, record: recordText(record), expiresAt: Date.now() + ttlMs };
  }

  /**
   * A commit's result. One the store applied but did not confirm (504 COMMIT_UNCONFIRMED) is
   * safe to retry when the request carries its idempotency key: the retry is answered from the
   * record if the commit survived and runs once if it did not, so the answer says when.
   */
  private async committed(request: ExecutionRequest, commit: Promise<CommitResult>): Promise<CommitResult> {
    try {
      return await commit;
    } catch (error) {
      if (request.identity === undefined || !isKernelError(error) || error.code !== 'COMMIT_UNCONFIRMED')
        throw error;
      throw new KernelError(
        'COMMIT_UNCONFIRMED',
        `${error.message}; retrying with the same idempotency key is safe (the retry answers this execution's outcome if the change survived, and runs it once if it did not)`,
        undefined,
        { retryAfter: 1 },
      );
    }
  }

  /** Records a committed segment in this kernel (cache, local subscribers, the outcome). */
  private async applied(
    request: ExecutionRequest,
    first: boolean,
    state: CachedState,
    write: SegmentWrite,
    commit: CommitResult,
    result: SandboxResult,
    outcome: ExecutionOutcome,
  ): Promise<SegmentEnd> {
    const { panel } = request;
    switch (commit.status) {
      case 'too_large':
        return failedWith(
          'RESOURCE_LIMIT',
          `the panel's state would grow beyond MAX_STATE_BYTES (${this.deps.maxStateBytes} bytes; ${commit.bytes} with these mutations); they were not applied`,
        );
      case 'gone':
        return failedWith('PANEL_NOT_FOUND', `panel "${panel.id}" was deleted while the handler ran`);
      case 'lost': {
        // The panel's lease ended under this segment — this kernel stalled past it, or the store
        // failed over to a replica that never saw it — and another kernel used the panel
        // meanwhile; fencing refused the segment. Busy, not wrong: retryable.
        const message = `this kernel's lease on panel "${panel.id}" ended before its commit (the kernel stalled past it, or the store failed over) and another kernel changed the panel meanwhile, so this segment was not applied`;
        if (first) throw new KernelError('OVERLOADED', `${message}; nothing of this execution was applied`);
        return failedWith(
          'OVERLOADED',
          `${message}; the execution's earlier segments were applied (version ${outcome.version})`,
        );
      }
      case 'ok':
        break;
    }
    let subscribers: { delivered(version: number): Promise<void> }[] = [];
    if (write.mutations.length > 0) {
      panel.observe({
        version: commit.version,
        epoch: state.snapshot.epoch,
        revision: commit.revision,
        entries: applied(state.snapshot.entries, write.mutations),
        bytes: commit.bytes,
      });
      subscribers = this.deps.feeds.offerPatch(
        panel.id,
        commit.version,
        `${write.patchPrefix}${commit.version}${write.patchSuffix}`,
      );
      outcome.stateMutations.push(...write.mutations);
    }
    outcome.version = commit.version;
    for (const frame of write.eventFrames)
      this.deps.feeds.offerEvent(panel.id, frame, ServerMessageType.EVENT);
    outcome.events.push(...result.events);
    outcome.viewCommands.push(...result.viewCommands);
    // A subscriber that was behind catches up first: its PATCH of this version precedes the RESULT.
    await Promise.all(subscribers.map((subscriber) => subscriber.delivered(commit.version)));
    return { kind: 'ran', result };
  }

  /**
   * Switches a panel to a new definition in one step, on every kernel: under the panel's gate and
   * lease (so between two segments of any execution, none of which can start on the old code
   * afterwards: each first segment checks the revision under its lease), the new definition's
   * upgrade handler runs once on the current state, and its writes, the definition and a
   * REVISION frame commit together. The upgrade may not suspend (`$ext`): the switch would stop
   * being one step. Anything failing changes nothing (422 UPGRADE_FAILED).
   */
  async switchDefinition(request: SwitchRequest): Promise<SwitchOutcome> {
    const { current } = request;
    const ticket = await this.admit(current.id, Date.now() + this.deps.deadlineMs);
    const deadline = Date.now() + this.deps.deadlineMs;
    const run = this.switching(request, deadline);
    this.running.add(run);
    const forget = (): void => {
      this.running.delete(run);
    };
    run.then(forget, forget);
    try {
      return await run;
    } finally {
      ticket.end();
    }
  }

  /** The switch under the panel's gate (switchDefinition ends the ticket, leaving the gate). */
  private async switching(request: SwitchRequest, deadline: number): Promise<SwitchOutcome> {
    const { current, next } = request;
    const started = performance.now();
    const startedAt = Date.now();
    let lease;
    try {
      lease = await this.deps.store.lease(current.id, current.state.snapshot, deadline);
    } catch (error) {
      if (error instanceof LeaseTimeoutError) throw busyElsewhere(current.id, this.deps.deadlineMs);
      throw error;
    }
    if (lease === 'gone' || lease.phase !== 'ready') {
      if (lease !== 'gone') await lease.release();
      throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${current.id}"`);
    }
    if (lease.revision !== request.baseRevision) {
      if (lease.state !== undefined) current.observe(lease.state);
      await lease.release();
      return { status: 'moved', revision: lease.revision };
    }
    const state = lease.state === undefined ? current.state : current.observe(lease.state);
    const revision = request.baseRevision + 1;
    const upgrade = next.lifecycle.upgrade;
    let outcome: ExecutionOutcome | undefined;
    let result: SandboxResult | undefined;
    let upgradeRequest: ExecutionRequest | undefined;
    if (upgrade !== undefined) {
      outcome = newOutcome(state.version);
      upgradeRequest = {
        panel: next,
        handler: upgrade,
        kind: 'upgrade',
        argsJson: NO_ARGS,
      };
      try {
        result = await this.deps.sandbox.execute(
          upgrade.bytecode,
          {
            panelId: next.id,
            handlerName: upgrade.name,
            stateJson: state.bytes,
            argsJson: Buffer.from(
              JSON.stringify({ fromRevision: request.baseRevision, toRevision: revision }),
            ),
            capabilities: upgrade.capabilities,
            scope: { panelId: next.id, handler: upgrade.name, kind: 'upgrade' },
            extensionRegistry: next.extensionRegistry,
          },
          upgrade.timeoutMs,
        );
      } catch (error) {
        await lease.release();
        throw error;
      }
      this.account(upgradeRequest, outcome, result, true);
      const refusal =
        result.status === 'suspended'
          ? `the upgrade handler called $ext.${result.suspension?.extensionName ?? '?'}.${result.suspension?.method ?? '?'}; an upgrade may not call extensions (the switch is one step)`
          : result.status === 'error'
            ? `the upgrade handler failed: ${result.error?.code ?? 'ERROR'}: ${result.error?.message ?? ''}`
            : undefined;
      if (refusal !== undefined) {
        if (result.status === 'suspended' && result.suspension !== undefined)
          this.deps.sandbox.cancel(result.suspension.suspensionId);
        await lease.release();
        this.finish(
          upgradeRequest,
          outcome,
          started,
          result.error ?? { code: 'UPGRADE_FAILED', message: refusal },
          startedAt,
        );
        throw upgradeFailed(refusal, outcome);
      }
    }
    const mutations =
      result === undefined ? [] : storedMutations(state.snapshot.entries, result.stateMutations);
    const frame = revisionFrame(next.id, revision, request.change.tools, mutations);
    const write: SegmentWrite = {
      ...(result === undefined ? { eventFrames: [] } : segmentWrite(next.id, state.snapshot.entries, result)),
      mutations,
      patchPrefix: frame.prefix,
      patchSuffix: frame.suffix,
      definition: request.change,
    };
    const commit = await lease.commit(write);
    switch (commit.status) {
      case 'too_large':
        throw upgradeFailed(
          `the upgrade handler would grow the state beyond MAX_STATE_BYTES (${this.deps.maxStateBytes} bytes; ${commit.bytes} with its writes)`,
          outcome,
        );
      case 'gone':
        throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${current.id}"`);
      case 'lost':
        throw new KernelError(
          'OVERLOADED',
          `this kernel's lease on panel "${current.id}" ended before its commit (the kernel stalled past it, or the store failed over) and another kernel changed the panel meanwhile; the definition was not changed`,
        );
      case 'ok':
        break;
    }
    next.observe({
      version: commit.version,
      epoch: state.snapshot.epoch,
      revision: commit.revision,
      entries: applied(state.snapshot.entries, mutations),
      bytes: commit.bytes,
    });
    const subscribers = this.deps.feeds.offerPatch(
      next.id,
      commit.version,
      `${write.patchPrefix}${commit.version}${write.patchSuffix}`,
    );
    for (const eventFrame of write.eventFrames)
      this.deps.feeds.offerEvent(next.id, eventFrame, ServerMessageType.EVENT);
    await Promise.all(subscribers.map((subscriber) => subscriber.delivered(commit.version)));
    if (outcome !== undefined && result !== undefined) {
      outcome.stateMutations.push(...mutations);
      outcome.events.push(...result.events);
      outcome.viewCommands.push(...result.viewCommands);
      if (result.returnValueJson !== undefined) outcome.returnValueJson = result.returnValueJson;
      outcome.version = commit.version;
      this.finish(upgradeRequest!, outcome, started, undefined, startedAt);
    }
    return outcome === undefined
      ? { status: 'switched', version: commit.version }
      : { status: 'switched', version: commit.version, upgrade: outcome };
  }

  /**
   * Tells the panel's subscribers, on every kernel, which extension call the handler waits for:
   * its extension and method only. The arguments stay with the execution: they carry what the
   * handler was given (a user's token, an API key in a URL or a header) and every subscriber
   * receives this frame.
   */
  private async progress(
    request: ExecutionRequest,
    suspension: NonNullable<SandboxResult['suspension']>,
  ): Promise<void> {
    const frame = JSON.stringify({
      type: ServerMessageType.PROGRESS,
      panelId: request.panel.id,
      handler: request.handler.name,
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
      suspension: {
        extensionName: suspension.extensionName,
        method: suspension.method,
      },
    });
    this.deps.feeds.offerEvent(request.panel.id, frame, ServerMessageType.PROGRESS);
    // PROGRESS is at most once: a store that cannot take it now loses it.
    await this.deps.store.publish(request.panel.id, frame).catch(() => {});
  }

  /**
   * Takes a segment's log lines (deltas: each result carries those since the previous one) and
   * its metrics (cumulative over the execution: the latest, not a sum).
   */
  private account(
    request: ExecutionRequest,
    outcome: ExecutionOutcome,
    result: SandboxResult,
    first: boolean,
  ): void {
    if (result.logs.length > 0) {
      outcome.logs.push(...result.logs);
      const logger = request.logger ?? this.deps.logger;
      if (logger !== undefined) {
        logHandlerLines(
          logger,
          {
            panelId: request.panel.id,
            tool: request.handler.name,
            kind: request.kind,
            revision: request.panel.revision,
          },
          result.logs,
        );
      }
    }
    outcome.metrics.durationUs = result.metrics.durationUs;
    outcome.metrics.cpuTimeUs = result.metrics.cpuTimeUs;
    outcome.metrics.hostCalls = result.metrics.hostCalls;
    outcome.metrics.memoryPeakBytes = Math.max(
      outcome.metrics.memoryPeakBytes,
      result.metrics.memoryPeakBytes,
    );
    if (first) {
      outcome.metrics.cacheHit = result.metrics.cacheHit;
      outcome.metrics.compilationTimeUs = result.metrics.compilationTimeUs;
    }
  }

  /**
   * Hands the execution's lines to the ring (off the answer's path, log-shipper.ts). `kernelError`:
   * the kernel ended it (or refused it after its handler ran) — its line joins the outcome's logs.
   */
  private shipLogs(
    request: ExecutionRequest,
    outcome: ExecutionOutcome,
    startedAt: number,
    kernelError?: unknown,
  ): void {
    let made: LogLine | undefined;
    if (kernelError !== undefined) {
      made = kernelLine(codeAndMessage(kernelError), Date.now() - startedAt);
      outcome.logs.push(made);
    }
    const shipper = this.deps.logs;
    if (shipper === undefined || !shipper.enabled) return;
    const requestId = request.requestId ?? requestIdOf(request.logger);
    shipper.ship(
      request.panel.id,
      ringLines(
        outcome.logs,
        {
          tool: request.handler.name,
          kind: request.kind,
          startedAt,
          revision: request.panel.revision,
          ...(requestId === undefined ? {} : { requestId }),
        },
        made,
      ),
    );
  }

  /**
   * Ends the execution, which started at `startedAt` (ms since the epoch). `endedByKernel` when
   * the kernel, not the handler, ended it with `error`: a line saying so joins the logs. The
   * lines go to the panel's log ring.
   */
  private finish(
    request: ExecutionRequest,
    outcome: ExecutionOutcome,
    started: number,
    error: HandlerError | undefined,
    startedAt: number,
    endedByKernel = false,
  ): ExecutionOutcome {
    if (error !== undefined) {
      outcome.status = 'error';
      outcome.error = error;
    }
    if (endedByKernel || outcome.logs.length > 0)
      this.shipLogs(request, outcome, startedAt, endedByKernel ? error : undefined);
    outcome.metrics.wallTimeMs = performance.now() - started;
    this.deps.observe?.(
      request.kind,
      request.handler.name,
      outcome.status,
      outcome.metrics.wallTimeMs / 1000,
    );
    return outcome;
  }
}

/** The code and message of a HandlerError, a KernelError or anything else thrown. */
function codeAndMessage(error: unknown): Pick<HandlerError, 'code' | 'message'> {
  if (error instanceof Error) return { code: codeOf(error), message: error.message };
  const { code, message } = (error ?? {}) as Partial<HandlerError>;
  return { code: code ?? 'INTERNAL_ERROR', message: message ?? String(error) };
}

/** The outcome of a retry answered from its record (requests.ts replayOf says which). */
function replayed(record: RequestRecord, identity: RequestIdentity): ExecutionOutcome {
  const answer = replayOf(record, identity, Date.now());
  const outcome = newOutcome(answer.version);
  outcome.status = answer.status;
  if (answer.returnValueJson !== undefined) outcome.returnValueJson = answer.returnValueJson;
  if (answer.error !== undefined) outcome.error = answer.error;
  outcome.replayed = { returnValueOmitted: answer.returnValueOmitted === true };
  return outcome;
}

/** A commit that writes nothing but a request record. */
const NO_WRITES: SegmentWrite = { mutations: [], patchPrefix: '', patchSuffix: '', eventFrames: [] };

/** How long past its deadline a running request's record waits for its last segment. */
const RUNNING_MARGIN_MS = 5000;

function newOutcome(version: number): ExecutionOutcome {
  return {
    status: 'success',
    stateMutations: [],
    events: [],
    viewCommands: [],
    logs: [],
    version,
    metrics: {
      durationUs: 0,
      cpuTimeUs: 0,
      wallTimeMs: 0,
      memoryPeakBytes: 0,
      hostCalls: 0,
      suspensions: 0,
      cacheHit: false,
      compilationTimeUs: 0,
    },
  };
}

/**
 * The store's form of a segment's writes (its net change against `before`, the state it started
 * from) and the frames its subscribers get, spliced from the sandbox's JSON text.
 */
export function segmentWrite(
  panelId: string,
  before: ReadonlyMap<string, string>,
  result: SandboxResult,
): SegmentWrite {
  const mutations = storedMutations(before, result.stateMutations);
  const { prefix, suffix } = patchFrame(panelId, mutations);
  const eventPrefix = `{"type":${JSON.stringify(ServerMessageType.EVENT)},"panelId":${JSON.stringify(panelId)},"name":`;
  return {
    mutations,
    patchPrefix: prefix,
    patchSuffix: suffix,
    eventFrames: result.events.map(
      (event) => `${eventPrefix}${JSON.stringify(event.name)},"payload":${event.payloadJson ?? 'null'}}`,
    ),
  };
}

/** Lifecycle handlers take no arguments of the client's. */
const NO_ARGS = Buffer.from('{}');

function upgradeFailed(message: string, outcome: ExecutionOutcome | undefined): KernelError {
  return new KernelError(
    'UPGRADE_FAILED',
    `${message}; the panel keeps its definition and state`,
    outcome === undefined ? undefined : { error: outcome.error, logs: outcome.logs },
  );
}

function codeOf(error: unknown): string {
  return isKernelError(error) ? error.code : 'INTERNAL_ERROR';
}

function busyElsewhere(panelId: string, deadlineMs: number): KernelError {
  return new KernelError(
    'PANEL_BUSY',
    `panel "${panelId}" stayed busy on other kernels for EXECUTION_DEADLINE_MS (${deadlineMs} ms); nothing of this execution ran`,
  );
}

function waitedTooLong(deadlineMs: number): string {
  return `the execution waited for its panel past EXECUTION_DEADLINE_MS (${deadlineMs} ms)`;
}
