import { mergeConditions, rfc3339Seconds, type ConditionDecision } from './conditions.js';

const ready = (status: 'True' | 'False'): ConditionDecision => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'Available' : 'Unavailable',
  message: 'm',
});

describe('mergeConditions', () => {
  const t0 = new Date('2026-01-01T00:00:00.123Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('stamps time and generation on new conditions, with second precision', () => {
    const [c] = mergeConditions(undefined, [ready('False')], 3, t0);
    expect(c).toEqual({
      ...ready('False'),
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 3,
    });
  });

  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    const first = mergeConditions(undefined, [ready('False')], 1, t0);
    const same = mergeConditions(first, [{ ...ready('False'), message: 'other' }], 2, t1);
    expect(same[0]?.lastTransitionTime).toBe(rfc3339Seconds(t0));
    expect(same[0]?.message).toBe('other');
    const moved = mergeConditions(same, [ready('True')], 2, t1);
    expect(moved[0]?.lastTransitionTime).toBe(rfc3339Seconds(t1));
  });
});
