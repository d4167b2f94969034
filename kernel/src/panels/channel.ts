// A panel's broadcast channel. A message is serialised and UTF-8 encoded once and the same bytes
// are handed to every subscriber, so a fan-out to many WebSocket clients costs one encoding.

import type { WireMessage } from '../messages.js';

export type FrameListener = (frame: Buffer, type: string) => void;

export class Channel {
  private readonly listeners = new Set<FrameListener>();
  private readonly closers = new Set<() => void>();

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers a callback for when the panel goes away; returns its removal. */
  onClose(closer: () => void): () => void {
    this.closers.add(closer);
    return () => this.closers.delete(closer);
  }

  close(): void {
    this.listeners.clear();
    for (const closer of [...this.closers]) closer();
    this.closers.clear();
  }

  publish(message: WireMessage): void {
    if (this.listeners.size === 0) return;
    const frame = Buffer.from(JSON.stringify(message));
    for (const listener of this.listeners) listener(frame, message.type);
  }
}
