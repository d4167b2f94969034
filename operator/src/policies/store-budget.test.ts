import { spec } from '../testing/fixtures.js';
import { evaluateStoreBudget, storeHeadroomBytes } from './store-budget.js';

const MIB = 2 ** 20;

describe('evaluateStoreBudget', () => {
  it('derives MAX_PANELS for a managed store from maxmemory and the largest state: 512Mi / 1Mi = 512', () => {
    const outcome = evaluateStoreBudget(spec());
    expect(outcome).toEqual({
      ok: true,
      maxPanels: 512,
      budget: {
        maxPanels: 512,
        maxPanelsDerived: true,
        maxStateBytes: MIB,
        maxmemoryMB: 512,
        limitMB: 768,
        requiredMB: 640,
        worstCaseMB: 512,
        fits: true,
      },
    });
  });

  it('caps the derived bound at 10000', () => {
    const outcome = evaluateStoreBudget(spec({ runtime: { maxStateSize: '4Ki' } }));
    expect(outcome.ok && outcome.maxPanels).toBe(10000);
  });

  it('warns when maxPanels × maxStateSize cannot fit maxmemory, and still rolls out', () => {
    const outcome = evaluateStoreBudget(spec({ store: { maxPanels: 2000 } }));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.maxPanels).toBe(2000);
    expect(outcome.budget).toMatchObject({ worstCaseMB: 2000, fits: false, maxPanelsDerived: false });
    expect(outcome.warning?.reason).toBe('StorePanelsExceedMemory');
    expect(outcome.warning?.message).toContain('store.maxPanels 2000 × runtime.maxStateSize 1Mi = 2000Mi');
    expect(outcome.warning?.message).toContain('store.managed.maxmemory 512Mi (at most 512 such panels fit)');
  });

  it('refuses a store whose memory limit cannot hold maxmemory and its headroom', () => {
    const outcome = evaluateStoreBudget(
      spec({ store: { managed: { maxmemory: '1Gi', resources: { limits: { memory: '1Gi' } } } } }),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure.reason).toBe('StoreMemoryBudgetExceeded');
    expect(outcome.failure.message).toContain(
      'store.managed.maxmemory 1024Mi + 256Mi for buffers and AOF rewrites = 1280Mi does not fit store.managed.resources.limits.memory 1024Mi',
    );
    expect(storeHeadroomBytes(128 * MIB)).toBe(64 * MIB);
    expect(storeHeadroomBytes(4096 * MIB)).toBe(1024 * MIB);
  });

  it('refuses a state larger than maxmemory, and quantities that do not parse', () => {
    const tooBig = evaluateStoreBudget(
      spec({ runtime: { maxStateSize: '256Mi' }, store: { managed: { maxmemory: '128Mi' } } }),
    );
    expect(!tooBig.ok && tooBig.failure.message).toContain('not one panel at its largest state fits');
    const bad = evaluateStoreBudget(spec({ runtime: { maxStateSize: 'huge' } }));
    expect(!bad.ok && bad.failure).toMatchObject({ reason: 'InvalidSpec' });
    const badMemory = evaluateStoreBudget(spec({ store: { managed: { maxmemory: 'lots' } } }));
    expect(!badMemory.ok && badMemory.failure.message).toContain('store.managed.maxmemory "lots"');
  });

  it('uses the mode defaults for external and embedded stores, without memory figures', () => {
    const external = evaluateStoreBudget(spec({ store: { mode: 'External' } }));
    expect(external).toEqual({
      ok: true,
      maxPanels: 10000,
      budget: { maxPanels: 10000, maxPanelsDerived: true, maxStateBytes: MIB },
    });
    expect(evaluateStoreBudget(spec({ store: { mode: 'Embedded' } })).budget?.maxPanels).toBe(1000);
    expect(evaluateStoreBudget(spec({ store: { mode: 'Embedded', maxPanels: 5 } })).budget).toMatchObject({
      maxPanels: 5,
      maxPanelsDerived: false,
    });
  });
});
