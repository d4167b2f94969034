// The extensions a handler reaches through $ext.<name>.<method>(...). The host never throws: every
// failure becomes a rejection of the handler's promise with a message that starts with an error
// code from errors.ts, which the handler may catch.

import { type KernelErrorCode, isKernelError } from '../errors.js';
import type { ResumeOutcome } from '../sandbox/types.js';

export interface Extension {
  readonly name: string;
  readonly methods: readonly string[];
  /** Performs one call; throws KernelError for a failure the handler should see by code. */
  call(method: string, args: readonly unknown[]): Promise<unknown>;
}

export interface ExtensionCallObserver {
  (extension: string, method: string, outcome: 'success' | KernelErrorCode, seconds: number): void;
}

function failure(code: KernelErrorCode, message: string): ResumeOutcome {
  return { success: false, error: `${code}: ${message}` };
}

/** The value as the sandbox takes it (JSON text); a value without one is the call's failure. */
function resumeWith(value: unknown): ResumeOutcome {
  if (value === undefined) return { success: true };
  try {
    return { success: true, valueJson: JSON.stringify(value) };
  } catch (error) {
    return failure(
      'EXTENSION_FAILED',
      `the result cannot be handed to the handler: ${(error as Error).message}`,
    );
  }
}

export class ExtensionHost {
  private readonly byName: ReadonlyMap<string, Extension>;

  constructor(
    extensions: readonly Extension[],
    private readonly observe: ExtensionCallObserver = () => {},
  ) {
    this.byName = new Map(extensions.map((extension) => [extension.name, extension]));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The extensionRegistry handed to the sandbox for a panel that may use `allowed`. */
  registryFor(allowed: readonly string[]): Record<string, readonly string[]> {
    const registry: Record<string, readonly string[]> = {};
    for (const name of allowed) {
      const extension = this.byName.get(name);
      if (extension) registry[name] = extension.methods;
    }
    return registry;
  }

  async invoke(
    allowed: readonly string[],
    name: string,
    method: string,
    args: readonly unknown[],
  ): Promise<ResumeOutcome> {
    const extension = this.byName.get(name);
    if (extension === undefined) {
      return failure(
        'EXTENSION_NOT_FOUND',
        `no extension named "${name}" (available: ${this.names.join(', ') || 'none'})`,
      );
    }
    if (!allowed.includes(name)) {
      return failure('EXTENSION_NOT_ALLOWED', `this panel does not list "${name}" in its extensions`);
    }
    if (!extension.methods.includes(method)) {
      return failure(
        'EXTENSION_METHOD_NOT_FOUND',
        `${name} has no method "${method}" (methods: ${extension.methods.join(', ')})`,
      );
    }
    const started = performance.now();
    try {
      const value = await extension.call(method, args);
      this.observe(name, method, 'success', (performance.now() - started) / 1000);
      return resumeWith(value);
    } catch (error) {
      const code: KernelErrorCode = isKernelError(error) ? error.code : 'EXTENSION_FAILED';
      this.observe(name, method, code, (performance.now() - started) / 1000);
      return failure(code, error instanceof Error ? error.message : String(error));
    }
  }
}
