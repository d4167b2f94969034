import { Panel } from './panel.js';

function panel(state: Record<string, unknown>, maxStateBytes: number): Panel {
  return new Panel({
    id: 'p',
    definition: { title: 't', state, extensions: [], tools: {}, lifecycle: {} },
    tools: new Map(),
    lifecycle: {},
    extensionRegistry: {},
    state: structuredClone(state),
    version: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    maxStateBytes,
  });
}

describe('Panel.apply', () => {
  it('applies a batch, bumps the version once and tells its listener', () => {
    const subject = panel({ a: 1 }, 1024);
    const changes: number[] = [];
    subject.onChange = (changed) => changes.push(changed.version);
    expect(
      subject.apply([
        { key: 'a', value: 2, operation: 'set' },
        { key: 'b', value: 'x', operation: 'set' },
      ]),
    ).toBe(1);
    expect(subject.apply([])).toBe(1);
    expect(subject.state).toEqual({ a: 2, b: 'x' });
    expect(changes).toEqual([1]);
  });

  it('tracks the size of the state as JSON', () => {
    const subject = panel({ a: 1 }, 1024);
    expect(subject.sizeBytes).toBe('"a":1'.length);
    subject.apply([{ key: 'b', value: 'xyz', operation: 'set' }]);
    expect(subject.sizeBytes).toBe('"a":1'.length + '"b":"xyz"'.length);
    subject.apply([{ key: 'a', operation: 'delete' }]);
    expect(subject.sizeBytes).toBe('"b":"xyz"'.length);
  });

  it('refuses, without changing anything, a batch that grows the state beyond the limit', () => {
    const subject = panel({ a: 'x'.repeat(50) }, 100);
    expect(subject.apply([{ key: 'b', value: 'y'.repeat(60), operation: 'set' }])).toBeUndefined();
    expect(subject.state).toEqual({ a: 'x'.repeat(50) });
    expect(subject.version).toBe(0);
    // Replacing a value by a smaller one fits, as does shrinking a state that is already too big.
    expect(subject.apply([{ key: 'a', value: 'short', operation: 'set' }])).toBe(1);
    const oversized = panel({ a: 'x'.repeat(500) }, 100);
    expect(oversized.apply([{ key: 'a', value: 'x'.repeat(400), operation: 'set' }])).toBe(1);
  });
});
