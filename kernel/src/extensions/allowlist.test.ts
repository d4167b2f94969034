import { parseIp } from './address.js';
import { admitUrl, parseAllowList, parseDomainRule, refusedAddress } from './allowlist.js';

const ip = (text: string) => parseIp(text)!;

describe('parseDomainRule', () => {
  it('parses host names, wildcards and ports', () => {
    expect(parseDomainRule('API.Example.com')).toEqual({
      kind: 'name',
      host: 'api.example.com',
      subdomains: false,
    });
    expect(parseDomainRule('*.example.com')).toEqual({ kind: 'name', host: 'example.com', subdomains: true });
    expect(parseDomainRule('localhost:3000')).toEqual({
      kind: 'name',
      host: 'localhost',
      subdomains: false,
      port: 3000,
    });
  });

  it('parses addresses and CIDR blocks, with or without a port', () => {
    expect(parseDomainRule('127.0.0.1:8080')).toEqual({
      kind: 'address',
      cidr: { family: 4, base: 0x7f000001n, prefix: 32 },
      port: 8080,
    });
    expect(parseDomainRule('10.0.0.0/8')).toEqual({
      kind: 'address',
      cidr: { family: 4, base: 0x0a000000n, prefix: 8 },
    });
    expect(parseDomainRule('10.0.0.0/8:5432')).toMatchObject({ kind: 'address', port: 5432 });
    expect(parseDomainRule('[fd00:ec2::254]')).toEqual({
      kind: 'address',
      cidr: { family: 6, base: ip('fd00:ec2::254').value, prefix: 128 },
    });
    expect(parseDomainRule('[FD00::/8]:443')).toEqual({
      kind: 'address',
      cidr: { family: 6, base: 0xfdn << 120n, prefix: 8 },
      port: 443,
    });
    // An IPv4-mapped address is the IPv4 address.
    expect(parseDomainRule('[::ffff:10.0.0.1]')).toEqual({
      kind: 'address',
      cidr: { family: 4, base: 0x0a000001n, prefix: 32 },
    });
  });

  it.each([
    ['http://example.com', 'leave out the scheme'],
    ['example.com/path', 'is not a host name'],
    ['*', 'is not a host name'],
    ['*.', 'is not a host name'],
    ['exa mple.com', 'is not a host name'],
    ['-bad.com', 'is not a host name'],
    ['example.com:0', 'has port 0, outside 1-65535'],
    ['example.com:70000', 'has port 70000, outside 1-65535'],
    ['example.com:', 'has port (empty)'],
    ['example.com:http', 'has port http'],
    ['10.0.0.1/8', 'bits set beyond its prefix length (the block is 10.0.0.0/8)'],
    ['10.0.0.0/40', 'prefix length 40, outside 0-32'],
    ['10.0.0.0/8:0', 'has port 0'],
    ['256.1.1.1', 'is not a dotted-decimal IPv4 address'],
    ['127.1', 'is not a dotted-decimal IPv4 address'],
    ['0x7f000001', 'is not a dotted-decimal IPv4 address'],
    ['fd00::1', 'write it in brackets, e.g. [fd00::1]'],
    ['fd00::/8', 'write it in brackets'],
    ['[fd00::1', 'is not [IPv6 address or block]'],
    ['[fd00::1]8080', 'is not [IPv6 address or block]'],
    ['[10.0.0.1]', 'uses brackets, which hold an IPv6 address or block'],
    ['[example.com]', 'uses brackets, which hold an IPv6 address or block'],
    ['[fd00::/200]', 'prefix length 200, outside 0-128'],
    ['fd00::/8/9', 'brackets'],
    [`${'a'.repeat(64)}.com`, 'is not a host name'],
  ])('rejects %s naming the entry and the problem', (entry, problem) => {
    expect(() => parseDomainRule(entry)).toThrow(`"${entry}"`);
    expect(() => parseDomainRule(entry)).toThrow(problem);
  });

  it('names the bad entry of a list', () => {
    expect(() => parseAllowList('api.example.com, 10.0.0.0/33')).toThrow('"10.0.0.0/33"');
  });
});

describe('admitUrl', () => {
  const rules = parseAllowList(
    'api.example.com, *.internal.test ,127.0.0.1:4000,10.0.0.0/8:5000,[fd00::/8],,',
  );
  const admitted = (url: string) => admitUrl(new URL(url), rules).allowed;

  it('matches exact hosts on any port', () => {
    expect(admitted('https://api.example.com/x')).toBe(true);
    expect(admitted('http://API.EXAMPLE.COM:8443/x')).toBe(true);
    expect(admitted('https://example.com/x')).toBe(false);
    expect(admitted('https://api.example.com.evil.org/x')).toBe(false);
  });

  it('matches subdomains only for wildcard rules', () => {
    expect(admitted('https://a.b.internal.test/')).toBe(true);
    expect(admitted('https://internal.test/')).toBe(false);
    expect(admitted('https://xinternal.test/')).toBe(false);
  });

  it('admits address literals only through address entries, on their port', () => {
    expect(admitted('http://127.0.0.1:4000/data')).toBe(true);
    expect(admitted('http://127.0.0.1:4001/data')).toBe(false);
    expect(admitted('http://127.0.0.1/data')).toBe(false);
    expect(admitted('http://10.20.30.40:5000/')).toBe(true);
    expect(admitted('http://10.20.30.40:5001/')).toBe(false);
    expect(admitted('http://[fd00::1]:9/')).toBe(true);
    expect(admitted('http://[fe80::1]/')).toBe(false);
    expect(admitted('http://8.8.8.8/')).toBe(false);
    // The URL parser reads these as 127.0.0.1 and ::ffff:127.0.0.1.
    expect(admitted('http://2130706433:4000/')).toBe(true);
    expect(admitted('http://[::ffff:127.0.0.1]:4000/')).toBe(true);
  });

  it('does not admit a name because an address entry exists', () => {
    expect(admitted('http://db.cluster.local:5000/')).toBe(false);
  });

  it('refuses other schemes and URLs with credentials, saying why', () => {
    expect(admitUrl(new URL('ftp://api.example.com/'), rules)).toEqual({
      allowed: false,
      reason: 'ftp: URLs are not supported (only http and https)',
    });
    expect(admitted('file:///etc/passwd')).toBe(false);
    expect(admitUrl(new URL('https://user:pw@api.example.com/'), rules)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('URLs with credentials are refused'),
    });
    expect(admitUrl(new URL('https://x.example/'), rules)).toEqual({
      allowed: false,
      reason: 'https://x.example is not in HTTP_ALLOWED_DOMAINS',
    });
  });

  it('allows nothing with an empty list', () => {
    expect(admitUrl(new URL('https://api.example.com/'), parseAllowList('')).allowed).toBe(false);
  });
});

describe('refusedAddress', () => {
  const rules = parseAllowList('api.example.com, 172.31.255.1:8080, 10.0.0.0/8, [fd00:ec2::254]');

  it('lets public addresses through and names the kind of any other', () => {
    expect(refusedAddress(ip('93.184.216.34'), 443, rules)).toBeUndefined();
    expect(refusedAddress(ip('127.0.0.1'), 80, rules)).toBe('loopback');
    expect(refusedAddress(ip('169.254.169.254'), 80, rules)).toBe('cloud metadata');
    expect(refusedAddress(ip('192.168.0.1'), 80, rules)).toBe('private');
  });

  it('lets listed addresses through on their port', () => {
    expect(refusedAddress(ip('172.31.255.1'), 8080, rules)).toBeUndefined();
    expect(refusedAddress(ip('172.31.255.1'), 8081, rules)).toBe('private');
    expect(refusedAddress(ip('10.96.0.10'), 53, rules)).toBeUndefined();
    expect(refusedAddress(ip('::ffff:10.96.0.10'), 53, rules)).toBeUndefined();
    expect(refusedAddress(ip('fd00:ec2::254'), 80, rules)).toBeUndefined();
    expect(refusedAddress(ip('fd00:ec2::253'), 80, rules)).toBe('unique-local');
  });
});
