// A panel's broadcast channel. A message is serialised once and the same frame is handed to every
// subscriber, so a fan-out to many WebSocket clients costs one JSON.stringify.

export type FrameListener = (frame: string) => void;

export class Channel {
  private readonly listeners = new Set<FrameListener>();

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(message: object): void {
    if (this.listeners.size === 0) return;
    const frame = JSON.stringify(message);
    for (const listener of this.listeners) listener(frame);
  }
}
