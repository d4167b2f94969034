import { cidrContains, formatIp, nonPublicKind, parseCidr, parseIp } from './address.js';

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (parsed === undefined) throw new Error(`${text} does not parse`);
  return parsed;
};

describe('parseIp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['FD00:EC2::254', 'fd00:ec2::254'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('reads %s', (text, formatted) => {
    expect(formatIp(ip(text))).toBe(formatted);
  });

  it.each([
    '010.0.0.1',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '256.0.0.1',
    '1.2.3.4.',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    '1.2.3.4::',
    ':1',
    'example.com',
    '',
  ])('refuses %s', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('reads IPv4 and IPv6 blocks', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8'), ip('10.255.0.1'))).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8'), ip('11.0.0.1'))).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), ip('8.8.8.8'))).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), ip('::1'))).toBe(false);
    expect(cidrContains(parseCidr('fd00::/8'), ip('fd12:3456::1'))).toBe(true);
    expect(cidrContains(parseCidr('172.31.255.1/32'), ip('172.31.255.1'))).toBe(true);
  });

  it.each([
    ['10.0.0.1/8', 'bits set beyond its prefix length (the block is 10.0.0.0/8)'],
    ['10.0.0.0/33', 'prefix length 33, outside 0-32'],
    ['fd00::/129', 'prefix length 129, outside 0-128'],
    ['10.0.0.0/', 'prefix length , outside'],
    ['10.0.0/8', 'not an address/prefix-length block'],
    ['10.0.0.0', 'not an address/prefix-length block'],
  ])('refuses %s', (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });
});

describe('nonPublicKind', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv6 forms of IPv4 addresses are judged as those addresses.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['::127.0.0.1', 'reserved'],
  ])('%s is %s', (text, kind) => {
    expect(nonPublicKind(ip(text))).toBe(kind);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (text) => {
      expect(nonPublicKind(ip(text))).toBeUndefined();
    },
  );
});
