import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { spec } from '../testing/fixtures.js';
import {
  checkExternalStore,
  effectivePersistence,
  externalStoreRefusal,
  modeChangeNotice,
  panelsPhase,
  parseStoreUrl,
} from './store.js';

const secret = (data: Record<string, string>) => ({
  metadata: { name: 's' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
const external = (extra: object = {}) =>
  spec({ store: { mode: 'External', external: { urlSecretRef: { name: 'redis', key: 'url' }, ...extra } } });

describe('parseStoreUrl', () => {
  it('reads host, port and TLS, never echoing credentials', () => {
    expect(parseStoreUrl('redis://:pw@redis.internal:6380/2', 'standalone')).toEqual({
      endpoint: 'redis.internal:6380',
      port: 6380,
      tls: false,
    });
    expect(parseStoreUrl('rediss://user:pw@redis.internal', 'standalone')).toEqual({
      endpoint: 'redis.internal:6379',
      port: 6379,
      tls: true,
    });
  });

  it.each([
    ['not a url at all', /is not a URL/],
    ['http://redis.internal', /scheme "http"; redis or rediss/],
    ['redis://:pw@redis.internal/db/x', /only a database number/],
  ])('refuses %s', (url, message) => {
    const result = parseStoreUrl(url, 'standalone');
    expect(result).toEqual(expect.stringMatching(message));
    expect(result).not.toContain('pw');
  });

  it('refuses a database other than 0 on Redis Cluster', () => {
    expect(parseStoreUrl('redis://seed:7000/1', 'cluster')).toMatch(/database 0 only/);
    expect(parseStoreUrl('redis://seed:7000/0', 'cluster')).toMatchObject({ port: 7000 });
  });
});

describe('checkExternalStore', () => {
  it('names a missing Secret and a missing key', () => {
    const none = checkExternalStore(external(), undefined, undefined);
    expect(!none.ok && none.failure).toEqual({
      reason: 'StoreSecretMissing',
      message: 'Secret redis (the store URL, key "url") does not exist; nothing is rolled out until it does',
    });
    const noKey = checkExternalStore(external(), secret({ other: 'x' }), undefined);
    expect(!noKey.ok && noKey.failure.message).toBe(
      'Secret redis has no key "url" (the store URL); nothing is rolled out until it has',
    );
  });

  it('reports an unparsable URL without the URL', () => {
    const bad = checkExternalStore(external(), secret({ url: 'ftp://:hunter2@x' }), undefined);
    expect(!bad.ok && bad.failure.reason).toBe('StoreURLInvalid');
    expect(!bad.ok && bad.failure.message).not.toContain('hunter2');
  });

  it('refuses a CA bundle for a URL without TLS: the kernel would not start', () => {
    const tls = external({ tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } } });
    const plain = checkExternalStore(tls, secret({ url: 'redis://r:6379' }), secret({ 'ca.pem': 'A' }));
    expect(!plain.ok && plain.failure).toMatchObject({ reason: 'StoreURLInvalid' });
    expect(!plain.ok && plain.failure.message).toContain('is not a rediss:// URL');
  });

  it('requires the CA bundle when one is named, and hashes what the kernels read', () => {
    const tls = external({ tls: { caSecretRef: { name: 'ca', key: 'ca.pem' } } });
    const url = secret({ url: 'rediss://r:6380' });
    const missing = checkExternalStore(tls, url, undefined);
    expect(!missing.ok && missing.failure.message).toContain('Secret ca (the store CA bundle, key "ca.pem")');
    const a = checkExternalStore(tls, url, secret({ 'ca.pem': 'A' }));
    const b = checkExternalStore(tls, url, secret({ 'ca.pem': 'B' }));
    expect(a.ok && a.address).toEqual({ endpoint: 'r:6380', port: 6380, tls: true });
    expect(a.ok && b.ok && a.contentHash !== b.contentHash).toBe(true);
  });
});

describe('effectivePersistence', () => {
  const live = (claim?: { size: string; storageClassName?: string }): V1StatefulSet => ({
    spec: {
      selector: {},
      serviceName: 's',
      template: {},
      ...(claim
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: {
                  resources: { requests: { storage: claim.size } },
                  ...(claim.storageClassName ? { storageClassName: claim.storageClassName } : {}),
                },
              },
            ],
          }
        : {}),
    },
  });

  it('takes the spec when there is no store yet or it agrees', () => {
    expect(effectivePersistence(spec(), undefined, 'demo-store')).toEqual({
      persistence: { enabled: true, size: '1Gi' },
    });
    expect(
      effectivePersistence(spec(), live({ size: '1Gi', storageClassName: 'std' }), 'demo-store'),
    ).toEqual({
      persistence: { enabled: true, size: '1Gi', storageClassName: 'std' },
    });
  });

  it('keeps what the StatefulSet has when the spec asks for another volume, and says so', () => {
    const bigger = effectivePersistence(
      spec({ store: { managed: { persistence: { size: '5Gi' } } } }),
      live({ size: '1Gi' }),
      'demo-store',
    );
    expect(bigger.persistence).toEqual({ enabled: true, size: '1Gi' });
    expect(bigger.warning?.reason).toBe('StorePersistenceImmutable');
    expect(bigger.warning?.message).toContain(
      'asks for a 5Gi volume but StatefulSet demo-store has a 1Gi volume',
    );
    const off = effectivePersistence(
      spec({ store: { managed: { persistence: { enabled: false } } } }),
      live({ size: '1Gi' }),
      'x',
    );
    expect(off.persistence.enabled).toBe(true);
    const on = effectivePersistence(spec(), live(), 'x');
    expect(on.persistence.enabled).toBe(false);
    expect(on.warning?.message).toContain('has no volume');
  });
});

describe('panelsPhase', () => {
  const volume = { metadata: { name: 'demo-panels' } };
  const importer = (rolled: boolean): V1Deployment => ({
    metadata: { generation: 3 },
    spec: {
      replicas: 1,
      selector: {},
      template: { metadata: { annotations: { 'nexus.dev/panels-import': 'demo-panels' } } },
    },
    status: rolled
      ? { observedGeneration: 3, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }
      : { observedGeneration: 3, replicas: 1, updatedReplicas: 0, availableReplicas: 1 },
  });

  it('is embedded for an embedded store, and none without a volume or while it is deleted', () => {
    expect(panelsPhase(spec({ store: { mode: 'Embedded' } }), undefined, undefined, 'demo-panels')).toBe(
      'embedded',
    );
    expect(panelsPhase(spec(), undefined, undefined, 'demo-panels')).toBe('none');
    const going = { metadata: { name: 'demo-panels', deletionTimestamp: new Date() } };
    expect(panelsPhase(spec(), going, importer(true), 'demo-panels')).toBe('none');
  });

  it('imports a volume a shared store finds, and is done once the importing kernel rolled out', () => {
    expect(panelsPhase(spec(), volume, undefined, 'demo-panels')).toBe('importing');
    expect(panelsPhase(spec(), volume, importer(false), 'demo-panels')).toBe('importing');
    expect(panelsPhase(spec(), volume, importer(true), 'demo-panels')).toBe('imported');
  });
});

describe('modeChangeNotice', () => {
  const names = { volume: 'demo-panels', store: 'demo-store' };

  it('says nothing when the mode stays', () => {
    expect(modeChangeNotice('Managed', spec(), names)).toBeUndefined();
  });

  it('announces an import from an embedded store, and warns of what other switches leave behind', () => {
    expect(modeChangeNotice('Embedded', spec(), names)).toMatchObject({ warning: false });
    const toEmbedded = modeChangeNotice('Managed', spec({ store: { mode: 'Embedded' } }), names);
    expect(toEmbedded?.warning).toBe(true);
    expect(toEmbedded?.message).toContain('the panels of the managed store are not copied');
    expect(toEmbedded?.message).toContain('StatefulSet demo-store) is deleted with its volume');
    const kept = modeChangeNotice(
      'Managed',
      spec({ store: { mode: 'External', managed: { persistence: { retainOnDelete: true } } } }),
      names,
    );
    expect(kept?.message).toContain(
      'its volume is kept, and switching back to Managed finds its panels again',
    );
  });
});

describe('externalStoreRefusal', () => {
  const sentinel = (extra: object = {}) => external({ topology: 'sentinel', ...extra });

  it('accepts the Sentinel form, and every store without it', () => {
    expect(
      externalStoreRefusal(
        sentinel({
          sentinels: ['s2.internal:26379', '10.0.0.3:26380', '[fd00::3]:26379'],
          masterName: 'm-1.a_b',
        }),
      ),
    ).toBeUndefined();
    expect(externalStoreRefusal(sentinel())).toBeUndefined();
    expect(externalStoreRefusal(external({ topology: 'cluster' }))).toBeUndefined();
    expect(externalStoreRefusal(spec())).toBeUndefined();
  });

  it('refuses the Sentinel settings with another topology', () => {
    expect(externalStoreRefusal(external({ sentinels: ['s2:26379'] }))).toEqual({
      reason: 'InvalidSpec',
      message:
        'store.external.sentinels is set but store.external.topology is standalone: it is read with topology sentinel only',
    });
    expect(externalStoreRefusal(external({ topology: 'cluster', masterName: 'm' }))?.message).toBe(
      'store.external.masterName is set but store.external.topology is cluster: it is read with topology sentinel only',
    );
  });

  it.each([
    ['s2.internal', '"s2.internal" is not host:port'],
    ['s2.internal:0', '"s2.internal:0" has port 0; expected 1 to 65535'],
    ['s2.internal:65536', '"s2.internal:65536" has port 65536; expected 1 to 65535'],
    ['fd00::3:26379', '"fd00::3:26379" is not host:port'],
    ['redis://s2:26379', '"redis://s2:26379" is not host:port'],
  ])('names the Sentinel %s and what is wrong with it', (entry, problem) => {
    expect(externalStoreRefusal(sentinel({ sentinels: ['ok:26379', entry] }))?.message).toBe(
      `store.external.sentinels[1] is invalid: ${problem}`,
    );
  });

  it('refuses more Sentinels than the schema admits, and a master name the kernel would not read', () => {
    const many = Array.from({ length: 17 }, (_, i) => `s${i}:26379`);
    expect(externalStoreRefusal(sentinel({ sentinels: many }))?.message).toBe(
      'store.external.sentinels lists 17 Sentinels; at most 16',
    );
    expect(externalStoreRefusal(sentinel({ masterName: 'my master' }))?.message).toBe(
      'store.external.masterName "my master" is invalid: expected up to 64 letters, digits, dots, underscores or dashes',
    );
    expect(externalStoreRefusal(sentinel({ masterName: 'm'.repeat(65) }))?.message).toMatch(/is invalid/);
  });
});
