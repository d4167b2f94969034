import { variables as kernel } from '@nexus/kernel/config-table';
import { DEFAULTS } from '../api/defaults.js';
import { parseQuantity } from '../api/quantity.js';
import { spec } from '../testing/fixtures.js';
import {
  ALLOCATOR_ROUNDING,
  PANEL_OVERHEAD_BYTES,
  STORE_ENTRY_OVERHEAD_BYTES,
  evaluateStoreBudget,
  panelRetention,
  panelStoreBytes,
  readableBytes,
  storeHeadroomBytes,
} from './store-budget.js';

const KIB = 2 ** 10;
const MIB = 2 ** 20;

// A panel at the kernel's default bounds: state 1Mi; 256 PATCHes in 1Mi; the current definition
// and 5 kept ones of at most the 1Mi body limit; 200 log lines in 256Ki; 256 idempotency records
// of at most 1Ki each; a quarter of all that for the allocator; 16Ki overhead.
const DEFAULT_BYTES = {
  state: MIB,
  history: MIB + 256 * 64,
  definitions: MIB + 5 * MIB + 5 * 64,
  logs: 256 * KIB + 200 * 64,
  requests: 256 * (KIB + 640),
};
const DEFAULT_SUM = Object.values(DEFAULT_BYTES).reduce((a, b) => a + b, 0);
const DEFAULT_PARTS = { ...DEFAULT_BYTES, rounding: DEFAULT_SUM / 4, overhead: 16 * KIB };
const DEFAULT_PER_PANEL = DEFAULT_SUM + DEFAULT_SUM / 4 + 16 * KIB;

describe('panelStoreBytes', () => {
  it('counts state, history, every definition kept, the log ring and the overhead', () => {
    expect(PANEL_OVERHEAD_BYTES).toBe(16 * KIB);
    expect(STORE_ENTRY_OVERHEAD_BYTES).toBe(64);
    expect(ALLOCATOR_ROUNDING).toBe(1.25);
    const retention = panelRetention(spec());
    expect(retention).toEqual({
      maxStateBytes: MIB,
      historyLength: 256,
      historyBytes: MIB,
      revisions: 5,
      definitionBytes: MIB,
      logLines: 200,
      logBytes: 256 * KIB,
      requestKeys: 256,
      requestResultBytes: KIB,
    });
    expect(panelStoreBytes(retention as Exclude<typeof retention, string>)).toEqual({
      ...DEFAULT_PARTS,
      total: DEFAULT_PER_PANEL,
    });
    expect(DEFAULT_PER_PANEL).toBe(11_399_184);
  });

  it('takes its defaults from the kernel’s variable table', () => {
    const bytes = (text: string) => parseQuantity(text);
    expect(DEFAULTS.store.revisions).toBe(kernel.PANEL_REVISIONS.default);
    expect(DEFAULTS.store.logRing.lines).toBe(kernel.PANEL_LOG_LINES.default);
    expect(bytes(DEFAULTS.store.logRing.size)).toBe(bytes(kernel.PANEL_LOG_BYTES.default));
    expect(bytes(DEFAULTS.store.historySize)).toBe(bytes(kernel.STORE_HISTORY_BYTES.default));
    expect(bytes(DEFAULTS.server.maxBodySize)).toBe(bytes(kernel.BODY_LIMIT.default));
  });

  it('charges nothing for a history of 0 PATCHes or a ring of 0 lines, whatever their byte bounds', () => {
    const parts = panelStoreBytes({
      maxStateBytes: 4 * KIB,
      historyLength: 0,
      historyBytes: 256 * MIB,
      revisions: 1,
      definitionBytes: 8 * KIB,
      logLines: 0,
      logBytes: 16 * MIB,
      requestKeys: 0,
      requestResultBytes: 4 * KIB,
    });
    expect(parts).toEqual({
      state: 4 * KIB,
      history: 0,
      // The current definition's own key, and the one kept revision.
      definitions: 8 * KIB + 8 * KIB + 64,
      logs: 0,
      requests: 0,
      rounding: (20 * KIB + 64) / 4,
      overhead: 16 * KIB,
      total: ((20 * KIB + 64) * 5) / 4 + 16 * KIB,
    });
  });

  it('words bytes for messages', () => {
    expect(readableBytes(MIB)).toBe('1Mi');
    expect(readableBytes(16 * KIB)).toBe('16Ki');
    expect(readableBytes(DEFAULT_PER_PANEL)).toBe('10.9Mi');
    expect(readableBytes(256 * KIB + 200 * 64)).toBe('269Ki');
    expect(readableBytes(100)).toBe('100');
  });
});

describe('evaluateStoreBudget', () => {
  it('derives MAX_PANELS for a managed store from maxmemory and what a panel holds at its bounds: 512Mi / 10.9Mi = 47', () => {
    const outcome = evaluateStoreBudget(spec());
    // floor(536870912 / 11399184) = 47; 47 × 11399184 = 510.9Mi.
    expect(outcome).toEqual({
      ok: true,
      maxPanels: 47,
      budget: {
        maxPanels: 47,
        maxPanelsDerived: true,
        maxStateBytes: MIB,
        perPanelBytes: DEFAULT_PER_PANEL,
        maxmemoryMB: 512,
        limitMB: 768,
        requiredMB: 640,
        worstCaseMB: 511,
        fits: true,
        pods: 1,
        totalMemoryLimitMB: 768,
        totalCPULimitMillicores: 1000,
      },
    });
  });

  it('counts every pod of a replicated store, each with its Redis and its Sentinel, and the same panels', () => {
    const one = evaluateStoreBudget(spec());
    const three = evaluateStoreBudget(spec({ store: { managed: { replicas: 3 } } }));
    if (!one.ok || !three.ok) throw new Error('the default budgets fit');
    // Every pod holds every panel: the panel bound is the same.
    expect(three.maxPanels).toBe(one.maxPanels);
    // 3 × (768Mi + 64Mi of Sentinel), 3 × (1 CPU + 100m).
    expect(three.budget).toMatchObject({ pods: 3, totalMemoryLimitMB: 2496, totalCPULimitMillicores: 3300 });
  });

  it('never derives more panels than maxmemory holds at their bounds', () => {
    const specs = [
      spec(),
      spec({ runtime: { maxStateSize: '64Ki' }, server: { maxBodySize: '64Ki' } }),
      spec({
        store: { revisions: 100, managed: { maxmemory: '2Gi', resources: { limits: { memory: '3Gi' } } } },
      }),
      spec({ store: { history: 0, logRing: { lines: 0 } } }),
      spec({ store: { historySize: '256Mi', logRing: { size: '16Mi' } } }),
    ];
    for (const s of specs) {
      const outcome = evaluateStoreBudget(s);
      if (!outcome.ok) throw new Error(outcome.failure.message);
      const { maxPanels, perPanelBytes, maxmemoryMB } = outcome.budget;
      expect(maxPanels * perPanelBytes).toBeLessThanOrEqual(maxmemoryMB! * MIB);
      expect((maxPanels + 1) * perPanelBytes).toBeGreaterThan(maxmemoryMB! * MIB);
      expect(outcome.budget.fits).toBe(true);
    }
  });

  it('lowers the bound as revisions, history or the log ring grow', () => {
    const derived = (overrides: Parameters<typeof spec>[0]) => {
      const outcome = evaluateStoreBudget(spec(overrides));
      return outcome.ok ? outcome.maxPanels : undefined;
    };
    const perPanel = (bytes: number) => bytes * ALLOCATOR_ROUNDING + 16 * KIB;
    // Every figure below includes the idempotency records: 256 × (1Ki + 640) = 416Ki.
    // 100 definitions of 1Mi: (1Mi + 1040Ki + 101Mi + 6400 + 269Ki + 416Ki) × 1.25 + 16Ki ≈ 129.6Mi.
    expect(derived({ store: { revisions: 100 } })).toBe(3);
    // A 256Mi history: (1Mi + 256Mi + 16Ki + 6Mi + 320 + 269Ki + 416Ki) × 1.25 + 16Ki ≈ 329.6Mi: one panel.
    expect(derived({ store: { historySize: '256Mi' } })).toBe(1);
    // docs/tuning.md's recipe, 64Ki bodies and 5 revisions: (1Mi + 1040Ki + 384Ki + 320 + 269Ki + 416Ki) × 1.25 + 16Ki.
    expect(derived({ store: { revisions: 5 }, server: { maxBodySize: '64Ki' } })).toBe(133);
    // Fewer idempotency records, more panels.
    expect(
      derived({
        store: { revisions: 5, idempotency: { keys: 16, resultSize: '256' } },
        server: { maxBodySize: '64Ki' },
      }),
    ).toBe(
      Math.floor((512 * MIB) / perPanel(MIB + 1040 * KIB + 384 * KIB + 320 + 256 * KIB + 12800 + 16 * 896)),
    );
    // One revision and small bodies.
    expect(derived({ store: { revisions: 1 }, server: { maxBodySize: '64Ki' } })).toBe(
      Math.floor(
        (512 * MIB) / perPanel(2 * MIB + 16 * KIB + 128 * KIB + 64 + 256 * KIB + 12800 + 256 * (KIB + 640)),
      ),
    );
  });

  it('caps the derived bound at 10000', () => {
    const outcome = evaluateStoreBudget(
      spec({
        runtime: { maxStateSize: '1Ki' },
        server: { maxBodySize: '1Ki' },
        store: { history: 0, revisions: 1, logRing: { lines: 0 }, idempotency: { keys: 1, resultSize: '0' } },
      }),
    );
    // (1Ki + 2Ki + 64 + 640) × 1.25 + 16Ki = 21104 bytes: 512Mi holds 25439 of them.
    expect(outcome.ok && outcome.budget).toMatchObject({ perPanelBytes: 21104, maxPanels: 10000 });
  });

  it('warns when maxPanels × what a panel holds cannot fit maxmemory, and still rolls out', () => {
    const outcome = evaluateStoreBudget(spec({ store: { maxPanels: 100 } }));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.maxPanels).toBe(100);
    // 100 × 11399184 = 1087.1Mi.
    expect(outcome.budget).toMatchObject({ worstCaseMB: 1088, fits: false, maxPanelsDerived: false });
    expect(outcome.warning?.reason).toBe('StorePanelsExceedMemory');
    expect(outcome.warning?.message).toContain(
      'store.maxPanels 100 × 10.9Mi (state 1Mi + history 1040Ki + definitions 6.0Mi + log ring 269Ki + request records 416Ki + allocator rounding 2.2Mi + overhead 16Ki) per panel = 1088Mi',
    );
    expect(outcome.warning?.message).toContain('store.managed.maxmemory 512Mi (at most 47 such panels fit)');
    expect(outcome.warning?.message).toContain('store.revisions, server.maxBodySize');
  });

  it('keeps a maxPanels that fits without a warning', () => {
    const outcome = evaluateStoreBudget(spec({ store: { maxPanels: 30 } }));
    expect(outcome).toMatchObject({
      ok: true,
      maxPanels: 30,
      budget: { maxPanelsDerived: false, fits: true },
    });
    expect(outcome.ok && outcome.warning).toBeUndefined();
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

  it('refuses a panel larger than maxmemory, and quantities that do not parse or the kernel refuses', () => {
    const tooBig = evaluateStoreBudget(
      spec({ runtime: { maxStateSize: '256Mi' }, store: { managed: { maxmemory: '128Mi' } } }),
    );
    expect(!tooBig.ok && tooBig.failure).toMatchObject({ reason: 'StoreMemoryBudgetExceeded' });
    expect(!tooBig.ok && tooBig.failure.message).toContain(
      'one panel at its bounds holds 329.6Mi (state 256Mi + history 1040Ki + definitions 6.0Mi + log ring 269Ki + request records 416Ki + allocator rounding 65.9Mi + overhead 16Ki), more than store.managed.maxmemory 128Mi: not one panel fits',
    );
    const bad = evaluateStoreBudget(spec({ runtime: { maxStateSize: 'huge' } }));
    expect(!bad.ok && bad.failure).toMatchObject({ reason: 'InvalidSpec' });
    const badMemory = evaluateStoreBudget(spec({ store: { managed: { maxmemory: 'lots' } } }));
    expect(!badMemory.ok && badMemory.failure.message).toContain('store.managed.maxmemory "lots"');
    const history = evaluateStoreBudget(spec({ store: { historySize: '1Gi' } }));
    expect(!history.ok && history.failure).toEqual({
      reason: 'InvalidSpec',
      message: 'store.historySize "1Gi" must be a quantity from 0 to 256Mi',
    });
    const body = evaluateStoreBudget(spec({ server: { maxBodySize: '512' } }));
    expect(!body.ok && body.failure.message).toBe(
      'server.maxBodySize "512" must be a quantity from 1Ki to 64Mi',
    );
    const logs = evaluateStoreBudget(spec({ store: { logRing: { size: '32Mi' } } }));
    expect(!logs.ok && logs.failure.message).toBe(
      'store.logRing.size "32Mi" must be a quantity from 0 to 16Mi',
    );
  });

  it('uses the mode defaults for external and embedded stores, with the per-panel figure and no memory figures', () => {
    const external = evaluateStoreBudget(spec({ store: { mode: 'External' } }));
    expect(external).toEqual({
      ok: true,
      maxPanels: 10000,
      budget: {
        maxPanels: 10000,
        maxPanelsDerived: true,
        maxStateBytes: MIB,
        perPanelBytes: DEFAULT_PER_PANEL,
      },
    });
    expect(evaluateStoreBudget(spec({ store: { mode: 'Embedded' } })).budget?.maxPanels).toBe(1000);
    expect(evaluateStoreBudget(spec({ store: { mode: 'Embedded', maxPanels: 5 } })).budget).toMatchObject({
      maxPanels: 5,
      maxPanelsDerived: false,
    });
  });
});
