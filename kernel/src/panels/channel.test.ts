import { Channel } from './channel.js';

describe('Channel', () => {
  it('hands one serialised frame to every subscriber until they unsubscribe', () => {
    const channel = new Channel();
    const a: string[] = [];
    const b: Buffer[] = [];
    const unsubscribeA = channel.subscribe((frame) => a.push(frame.toString('utf8')));
    channel.subscribe((frame) => b.push(frame));
    channel.publish({ type: 'PATCH', n: 1 });
    unsubscribeA();
    channel.publish({ type: 'PATCH', n: 2 });
    expect(a).toEqual(['{"type":"PATCH","n":1}']);
    expect(b.map((frame) => frame.toString('utf8'))).toEqual([
      '{"type":"PATCH","n":1}',
      '{"type":"PATCH","n":2}',
    ]);
    expect(b[0]).not.toBe(b[1]);
    expect(channel.size).toBe(1);
  });

  it('tells registered closers when the panel goes away, once', () => {
    const channel = new Channel();
    let closed = 0;
    channel.onClose(() => (closed += 1));
    const removed = channel.onClose(() => (closed += 100));
    removed();
    channel.subscribe(() => {});
    channel.close();
    channel.close();
    expect(closed).toBe(1);
    expect(channel.size).toBe(0);
  });
});
