import type { LookupAddress } from 'node:dns';
import { parseAllowList } from './allowlist.js';
import { pinnedLookup, type Resolver, resolveTarget, systemResolver } from './target.js';

const answers =
  (table: Record<string, string[]>): Resolver =>
  (host) =>
    Promise.resolve(
      (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );

const rules = parseAllowList('api.example.com, *.svc.test, 10.96.0.0/12:8080, 172.31.255.1:443');
const signal = new AbortController().signal;

describe('resolveTarget', () => {
  const resolver = answers({
    'api.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'loop.svc.test': ['127.0.0.1'],
    'meta.svc.test': ['169.254.169.254'],
    'ten.svc.test': ['10.0.0.1'],
    'mixed.svc.test': ['10.0.0.1', '8.8.8.8'],
    'db.svc.test': ['10.96.4.2'],
    'pinned.svc.test': ['172.31.255.1'],
    'v6.svc.test': ['::1', 'fd00:ec2::254'],
  });
  const target = (url: string) => resolveTarget(new URL(url), rules, resolver, signal);

  it('resolves an allowed name to its public addresses', async () => {
    await expect(target('https://api.example.com/x')).resolves.toEqual({
      url: new URL('https://api.example.com/x'),
      addresses: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    });
  });

  it.each([
    ['http://loop.svc.test/', '127.0.0.1 (loopback)'],
    ['http://meta.svc.test/latest/meta-data', '169.254.169.254 (cloud metadata)'],
    ['http://ten.svc.test/', '10.0.0.1 (private)'],
    ['http://db.svc.test:8081/', '10.96.4.2 (private)'],
    ['http://pinned.svc.test/', '172.31.255.1 (private)'],
    ['http://v6.svc.test/', '::1 (loopback), fd00:ec2::254 (cloud metadata)'],
  ])('refuses %s, which resolves to %s', async (url, resolved) => {
    const host = new URL(url).hostname;
    const rejection = target(url);
    await expect(rejection).rejects.toMatchObject({ code: 'ADDRESS_NOT_ALLOWED' });
    await expect(rejection).rejects.toThrow(`${host} resolves to ${resolved}`);
  });

  it('connects only to the addresses that passed', async () => {
    await expect(target('http://mixed.svc.test/')).resolves.toMatchObject({
      addresses: [{ address: '8.8.8.8', family: 4 }],
    });
  });

  it('lets an address or CIDR entry allow a private address on purpose, on its port', async () => {
    await expect(target('http://db.svc.test:8080/')).resolves.toMatchObject({
      addresses: [{ address: '10.96.4.2', family: 4 }],
    });
    await expect(target('https://pinned.svc.test:443/')).resolves.toMatchObject({
      addresses: [{ address: '172.31.255.1', family: 4 }],
    });
  });

  it('does not resolve names the allow-list does not admit', async () => {
    const asked: string[] = [];
    const recording: Resolver = (host) => {
      asked.push(host);
      return Promise.resolve([]);
    };
    await expect(
      resolveTarget(new URL('http://exfiltrate.attacker.test/'), rules, recording, signal),
    ).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
    await expect(resolveTarget(new URL('http://10.96.0.1:8080/'), rules, recording, signal)).resolves.toEqual(
      {
        url: new URL('http://10.96.0.1:8080/'),
        addresses: [],
      },
    );
    expect(asked).toEqual([]);
  });

  it('reports resolver failures and empty answers', async () => {
    const failing: Resolver = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    await expect(
      resolveTarget(new URL('https://api.example.com/'), rules, failing, signal),
    ).rejects.toMatchObject({
      code: 'EXTENSION_FAILED',
      message: 'api.example.com could not be resolved: ENOTFOUND',
    });
    await expect(target('https://none.svc.test/')).rejects.toThrow('none.svc.test resolved to no address');
  });

  it('gives up on a resolver that does not answer when the signal aborts', async () => {
    const hanging: Resolver = () => new Promise(() => {});
    const controller = new AbortController();
    const pending = resolveTarget(new URL('https://api.example.com/'), rules, hanging, controller.signal);
    controller.abort(new Error('timed out'));
    await expect(pending).rejects.toThrow('timed out');
  });

  it('uses the system resolver by default', async () => {
    await expect(systemResolver('localhost')).resolves.toContainEqual({ address: '127.0.0.1', family: 4 });
  });
});

describe('pinnedLookup', () => {
  const target = {
    url: new URL('http://api.example.com/'),
    addresses: [
      { address: '93.184.216.34', family: 4 as const },
      { address: '2606:2800:220:1::1', family: 6 as const },
    ],
  };
  const call = (host: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
      pinnedLookup(target)(host, options, (error, address, family) => resolve({ error, address, family })),
    );

  it('answers with the checked addresses only', async () => {
    await expect(call('api.example.com', { all: true })).resolves.toEqual({
      error: null,
      address: target.addresses,
      family: undefined,
    });
    await expect(call('api.example.com', {})).resolves.toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    await expect(call('api.example.com', { family: 6 })).resolves.toMatchObject({
      address: '2606:2800:220:1::1',
      family: 6,
    });
  });

  it('refuses any other name', async () => {
    const { error } = await call('evil.example.com', { all: true });
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });
});
