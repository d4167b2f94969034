import { mayTakeLease, microTime, nextRecord, observe, releasedRecord } from './lease.js';

describe('lease decisions', () => {
  const held = {
    holderIdentity: 'b',
    leaseDurationSeconds: 15,
    renewTime: '2026-01-01T00:00:00.000000Z',
    leaseTransitions: 2,
  };

  it('takes a free lease or renews its own at once', () => {
    const obs = observe(undefined, held, 1000);
    expect(mayTakeLease(undefined, obs, 1000, 'a', 15)).toBe(true);
    expect(mayTakeLease({ ...held, holderIdentity: '' }, obs, 1000, 'a', 15)).toBe(true);
    expect(mayTakeLease({ ...held, holderIdentity: 'a' }, obs, 1000, 'a', 15)).toBe(true);
  });

  it("waits out another holder's lease duration, measured from when we last saw the record change", () => {
    const seen = observe(undefined, held, 1000);
    expect(mayTakeLease(held, seen, 15_999, 'a', 15)).toBe(false);
    expect(mayTakeLease(held, seen, 16_000, 'a', 15)).toBe(true);
    // The holder renewed: the clock starts again.
    const renewed = { ...held, renewTime: '2026-01-01T00:00:05.000000Z' };
    const later = observe(seen, renewed, 10_000);
    expect(later.observedAtMs).toBe(10_000);
    expect(mayTakeLease(renewed, later, 16_000, 'a', 15)).toBe(false);
    // An unchanged record keeps the first observation time.
    expect(observe(later, renewed, 12_000)).toBe(later);
  });

  it("uses the holder's own lease duration", () => {
    const short = { ...held, leaseDurationSeconds: 2 };
    expect(mayTakeLease(short, observe(undefined, short, 0), 2000, 'a', 15)).toBe(true);
  });

  it('counts transitions and keeps acquireTime while renewing', () => {
    const now = new Date('2026-01-01T00:01:00.5Z');
    const taken = nextRecord(held, 'a', now, 15);
    expect(taken).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T00:01:00.500000Z',
      renewTime: '2026-01-01T00:01:00.500000Z',
      leaseTransitions: 3,
    });
    const renewed = nextRecord(taken, 'a', new Date('2026-01-01T00:01:02Z'), 15);
    expect(renewed.acquireTime).toBe(taken.acquireTime);
    expect(renewed.leaseTransitions).toBe(3);
    expect(nextRecord(undefined, 'a', now, 15).leaseTransitions).toBe(0);
    expect(nextRecord(releasedRecord(held, now), 'a', now, 15).leaseTransitions).toBe(3);
  });

  it('releases by clearing the holder with a one-second duration', () => {
    expect(releasedRecord(held, new Date('2026-01-01T00:02:00Z'))).toMatchObject({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      leaseTransitions: 2,
    });
  });

  it('writes MicroTime with six fractional digits, as the API server demands', () => {
    expect(microTime(new Date('2026-01-01T00:00:00.123Z'))).toBe('2026-01-01T00:00:00.123000Z');
    expect(microTime('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000000Z');
  });
});
