import { createHostCheck, hostName, originAllowed, parseHostList, serviceNames } from './hosts.js';

describe('the Host check', () => {
  const allowed = createHostCheck({
    extra: parseHostList('Nexus.Example.com., *.apps.example.org'),
    service: { name: 'nexus', namespace: 'tools' },
  });

  it.each([
    '10.42.0.17:3000',
    '10.42.0.17',
    '[fd00::17]:3000',
    '[::1]',
    'localhost',
    'LOCALHOST:49152',
    '127.0.0.1:8080',
    'nexus:3000',
    'nexus.tools',
    'nexus.tools.svc:3001',
    'nexus.tools.svc.cluster.local',
    'nexus.example.com',
    'nexus.example.com.:443',
    'team.apps.example.org',
    'a.b.apps.example.org:1',
  ])('answers %s', (host) => {
    expect(allowed(host)).toBe(true);
  });

  it.each([
    'rebind.attacker.example',
    'apps.example.org',
    'evilapps.example.org',
    'nexus.tools.svc.attacker.example',
    'nexus.other',
    'localhost.attacker.example',
    '127.0.0.1.nip.io',
    '[not-an-address]',
    '[fd00::17',
    '',
  ])('refuses %s', (host) => {
    expect(allowed(host)).toBe(false);
  });

  it('answers a request without Host (HTTP/1.0: nothing a browser sends)', () => {
    expect(allowed(undefined)).toBe(true);
  });

  it('answers every host with *, and only the defaults without settings', () => {
    expect(createHostCheck({ extra: ['*'] })('anything.example')).toBe(true);
    const bare = createHostCheck({ extra: [] });
    expect(bare('localhost:1')).toBe(true);
    expect(bare('nexus')).toBe(false);
  });

  it('names the Service without a namespace by its name alone', () => {
    expect(serviceNames({ name: 'nexus' })).toEqual(['nexus']);
    expect(serviceNames(undefined)).toEqual([]);
  });

  it('reads the name of a Host header', () => {
    expect(hostName('Example.COM:80')).toBe('example.com');
    expect(hostName('[::1]:3000')).toBe('[::1]');
    expect(hostName('example.com.')).toBe('example.com');
  });

  it('refuses list entries that are not host names', () => {
    expect(() => parseHostList('ok.example, http://bad')).toThrow('"http://bad" is not a host name');
    expect(() => parseHostList('a:80')).toThrow('is not a host name');
  });
});

describe('the WebSocket Origin check', () => {
  it('allows CORS_ORIGINS and the request host itself', () => {
    expect(originAllowed('https://ui.example', 'k:3001', ['https://ui.example'])).toBe(true);
    expect(originAllowed('http://k:3001', 'k:3001', [])).toBe(true);
    expect(originAllowed('http://anything', 'k:3001', ['*'])).toBe(true);
  });

  it('refuses other origins, other ports, opaque origins and junk', () => {
    expect(originAllowed('https://attacker.example', 'k:3001', ['https://ui.example'])).toBe(false);
    expect(originAllowed('http://k:3000', 'k:3001', [])).toBe(false);
    expect(originAllowed('null', 'k:3001', [])).toBe(false);
    expect(originAllowed('file://k:3001', 'k:3001', [])).toBe(false);
    expect(originAllowed('http://k:3001', undefined, [])).toBe(false);
    expect(originAllowed('http://k', 'bad host with spaces', [])).toBe(false);
  });
});
