// The kernel's lifecycle flags, shared by the HTTP and WebSocket layers.

export interface KernelStatus {
  /** The sandbox runtime is initialised and warm. */
  readonly ready: boolean;
  /** Shutdown has begun: no new work is accepted. */
  readonly draining: boolean;
}
