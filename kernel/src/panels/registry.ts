// The panels of this kernel: create (validate, compile, mount), restore from disk, inspect and
// destroy (unmount). Owns the MAX_PANELS limit and keeps persistence in step with every change.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { KernelError } from '../errors.js';
import { HandlerCompilationError } from '../sandbox/types.js';
import type { BytecodeCache } from './bytecode-cache.js';
import { compileArgsSchema, type PanelDefinition, parsePanelDefinition } from './definition.js';
import type { ExecutionOutcome, Executor } from './executor.js';
import { type HandlerSpec, Panel, type ToolSpec } from './panel.js';
import { type PanelPersistence, type PanelRecord, RECORD_FORMAT } from './persistence.js';

export interface RegistryOptions {
  readonly maxPanels: number;
  readonly maxStateBytes: number;
  readonly defaultTimeoutMs: number;
  readonly extensions: {
    names: string[];
    registryFor(allowed: readonly string[]): Record<string, readonly string[]>;
  };
}

export interface DeleteOutcome {
  readonly id: string;
  readonly unmount?: ExecutionOutcome;
}

export class PanelRegistry {
  private readonly panels = new Map<string, Panel>();
  private reserved = 0;

  constructor(
    private readonly options: RegistryOptions,
    private readonly bytecode: BytecodeCache,
    private readonly executor: Executor,
    private readonly persistence: PanelPersistence,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.panels.size;
  }

  get(id: string): Panel {
    const panel = this.panels.get(id);
    if (panel === undefined) throw new KernelError('PANEL_NOT_FOUND', `no panel with id "${id}"`);
    return panel;
  }

  find(id: string): Panel | undefined {
    return this.panels.get(id);
  }

  list(): Panel[] {
    return [...this.panels.values()];
  }

  /** Validates, compiles and mounts a new panel; throws KernelError for every client mistake. */
  async create(body: unknown): Promise<{ panel: Panel; mount?: ExecutionOutcome }> {
    const definition = parsePanelDefinition(body, {
      maxTimeoutMs: this.options.defaultTimeoutMs,
      extensions: this.options.extensions.names,
    });
    const initialBytes = Buffer.byteLength(JSON.stringify(definition.state));
    if (initialBytes > this.options.maxStateBytes) {
      throw new KernelError('VALIDATION_FAILED', 'the initial state is larger than MAX_STATE_BYTES', [
        {
          path: '/state',
          message: `${initialBytes} bytes as JSON; at most ${this.options.maxStateBytes} (MAX_STATE_BYTES)`,
        },
      ]);
    }
    if (this.panels.size + this.reserved >= this.options.maxPanels) {
      throw new KernelError(
        'PANEL_LIMIT_REACHED',
        `this kernel holds its maximum of ${this.options.maxPanels} panels (MAX_PANELS)`,
      );
    }
    this.reserved += 1;
    try {
      const panel = await this.build(
        randomUUID(),
        definition,
        structuredClone(definition.state),
        0,
        new Date().toISOString(),
      );
      let mount: ExecutionOutcome | undefined;
      if (panel.lifecycle.mount) {
        mount = await this.executor.run({ panel, handler: panel.lifecycle.mount, kind: 'mount', args: {} });
        if (mount.status === 'error') {
          this.releaseBytecode(panel);
          throw new KernelError(
            'MOUNT_FAILED',
            `the mount handler failed: ${mount.error?.code ?? 'ERROR'}: ${mount.error?.message ?? ''}`,
            {
              error: mount.error,
            },
          );
        }
      }
      this.admit(panel);
      return mount === undefined ? { panel } : { panel, mount };
    } finally {
      this.reserved -= 1;
    }
  }

  /** Loads every persisted panel; a panel that no longer compiles is logged and skipped. */
  async restore(records: readonly PanelRecord[]): Promise<number> {
    for (const record of records) {
      try {
        const definition = parsePanelDefinition(record.definition, {
          maxTimeoutMs: this.options.defaultTimeoutMs,
          extensions: this.options.extensions.names,
        });
        const panel = await this.build(record.id, definition, record.state, record.version, record.createdAt);
        this.panels.set(panel.id, panel);
        panel.onChange = (changed) => this.persist(changed);
      } catch (error) {
        this.logger.error({ panelId: record.id, err: error }, 'persisted panel could not be restored');
      }
    }
    return this.panels.size;
  }

  async delete(id: string): Promise<DeleteOutcome> {
    const panel = this.get(id);
    this.panels.delete(id);
    let unmount: ExecutionOutcome | undefined;
    if (panel.lifecycle.unmount) {
      try {
        unmount = await this.executor.run({
          panel,
          handler: panel.lifecycle.unmount,
          kind: 'unmount',
          args: {},
        });
      } catch (error) {
        this.logger.error({ panelId: id, err: error }, 'unmount handler could not run');
      }
    }
    panel.onChange = () => {};
    panel.channel.close();
    this.releaseBytecode(panel);
    await this.persistence.remove(id);
    return unmount === undefined ? { id } : { id, unmount };
  }

  private admit(panel: Panel): void {
    this.panels.set(panel.id, panel);
    panel.onChange = (changed) => this.persist(changed);
    this.persist(panel);
  }

  private persist(panel: Panel): void {
    this.persistence.save(panel.id, () => ({
      format: RECORD_FORMAT,
      id: panel.id,
      createdAt: panel.createdAt,
      definition: panel.definition,
      state: panel.state,
      version: panel.version,
    }));
  }

  private async build(
    id: string,
    definition: PanelDefinition,
    state: Record<string, unknown>,
    version: number,
    createdAt: string,
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
        tools.set(
          name,
          tool.args === undefined ? spec : { ...spec, validateArgs: compileArgsSchema(tool.args) },
        );
      }
      const lifecycle: { mount?: HandlerSpec; unmount?: HandlerSpec } = {};
      if (definition.lifecycle.mount)
        lifecycle.mount = await compile('mount', '/lifecycle/mount', definition.lifecycle.mount);
      if (definition.lifecycle.unmount)
        lifecycle.unmount = await compile('unmount', '/lifecycle/unmount', definition.lifecycle.unmount);
      return new Panel({
        id,
        definition,
        tools,
        lifecycle,
        extensionRegistry: this.options.extensions.registryFor(definition.extensions),
        state,
        version,
        createdAt,
        maxStateBytes: this.options.maxStateBytes,
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
