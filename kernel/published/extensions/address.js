// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
// IP addresses and CIDR blocks as numbers, and the table of address ranges the `http` extension
// does not reach unless the allow-list names them: loopback, private, link-local, shared (CGNAT),
// cloud metadata, multicast and reserved space. Pure: no I/O.
const BITS = { 4: 32, 6: 128 };
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEXTET = /^[0-9a-f]{1,4}$/i;
/** Strict dotted-decimal IPv4 (no leading zeros, no shorthand forms). */
export function parseIpv4(text) {
    if (!IPV4.test(text))
        return undefined;
    const value = text.split('.').reduce((sum, octet) => (sum << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value };
}
/** The 16-bit groups of one side of `::`; only the address's last group may be a dotted IPv4. */
function hextets(part, last) {
    if (part === '')
        return [];
    const groups = part.split(':');
    const out = [];
    for (const [index, group] of groups.entries()) {
        const v4 = last && index === groups.length - 1 && group.includes('.') ? parseIpv4(group) : undefined;
        if (v4 !== undefined) {
            out.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
        }
        else if (HEXTET.test(group)) {
            out.push(parseInt(group, 16));
        }
        else {
            return undefined;
        }
    }
    return out;
}
/** IPv6 in any textual form (`::` shorthand, a trailing dotted IPv4, a `%zone`, which is ignored). */
export function parseIpv6(text) {
    const address = text.replace(/%[\w.-]+$/, '');
    const halves = address.split('::');
    if (halves.length > 2)
        return undefined;
    const head = hextets(halves[0], halves.length === 1);
    const tail = halves.length === 2 ? hextets(halves[1], true) : [];
    if (head === undefined || tail === undefined)
        return undefined;
    const missing = 8 - head.length - tail.length;
    if (halves.length === 2 ? missing < 1 : missing !== 0)
        return undefined;
    const groups = [...head, ...Array(missing).fill(0), ...tail];
    return { family: 6, value: groups.reduce((sum, group) => (sum << 16n) | BigInt(group), 0n) };
}
/** An IPv4 or IPv6 address (IPv6 may be in brackets, as in a URL's host). */
export function parseIp(text) {
    const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    return bare.includes(':') ? parseIpv6(bare) : parseIpv4(bare);
}
function mask(family, prefix) {
    const bits = BITS[family];
    return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
}
/** `10.0.0.0/8`, `fd00::/8`. Throws a message naming the problem; host bits must be zero. */
export function parseCidr(text) {
    const slash = text.lastIndexOf('/');
    const ip = parseIp(text.slice(0, slash));
    if (slash < 0 || ip === undefined)
        throw new Error(`"${text}" is not an address/prefix-length block`);
    const prefixText = text.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText) || prefix > BITS[ip.family]) {
        throw new Error(`"${text}" has prefix length ${prefixText}, outside 0-${BITS[ip.family]}`);
    }
    const base = ip.value & mask(ip.family, prefix);
    if (base !== ip.value) {
        throw new Error(`"${text}" has bits set beyond its prefix length (the block is ${formatIp({ family: ip.family, value: base })}/${prefix})`);
    }
    return { family: ip.family, base, prefix };
}
export function cidrContains(cidr, ip) {
    return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.base;
}
export function formatIp(ip) {
    if (ip.family === 4) {
        return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
    }
    const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((ip.value >> shift) & 0xffffn).toString(16));
    // Compress the longest run of two or more zero groups (RFC 5952).
    let best = { start: -1, length: 1 };
    for (let start = 0; start < 8; start += 1) {
        let length = 0;
        while (start + length < 8 && groups[start + length] === '0')
            length += 1;
        if (length > best.length)
            best = { start, length };
    }
    if (best.start < 0)
        return groups.join(':');
    return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
const MAPPED = parseCidr('::ffff:0:0/96');
/** An IPv4-mapped IPv6 address is that IPv4 address (a dual-stack socket connects to it as such). */
export function canonicalIp(ip) {
    return cidrContains(MAPPED, ip) ? { family: 4, value: ip.value & 0xffffffffn } : ip;
}
/** The IANA special-purpose ranges the extension treats as non-public; the longest match wins. */
const SPECIAL_RANGES = [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'shared (CGNAT)'],
    ['100.100.100.200/32', 'cloud metadata'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['169.254.169.254/32', 'cloud metadata'],
    ['169.254.170.2/32', 'cloud metadata'],
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'reserved'],
    ['192.0.0.192/32', 'cloud metadata'],
    ['192.0.2.0/24', 'reserved'],
    ['192.88.99.0/24', 'reserved'],
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'reserved'],
    ['198.51.100.0/24', 'reserved'],
    ['203.0.113.0/24', 'reserved'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::/8', 'reserved'],
    ['64:ff9b:1::/48', 'reserved'],
    ['100::/64', 'reserved'],
    ['2001::/23', 'reserved'],
    ['2001:db8::/32', 'reserved'],
    ['3fff::/20', 'reserved'],
    ['fc00::/7', 'unique-local'],
    ['fd00:ec2::254/128', 'cloud metadata'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'private'],
    ['ff00::/8', 'multicast'],
].map(([cidr, kind]) => ({ cidr: parseCidr(cidr), kind }));
const GLOBAL_UNICAST_V6 = parseCidr('2000::/3');
/** IPv6 forms that carry an IPv4 address the packets end up at: NAT64 (low 32 bits) and 6to4. */
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');
function embeddedIpv4(ip) {
    if (cidrContains(NAT64, ip))
        return { family: 4, value: ip.value & 0xffffffffn };
    if (cidrContains(SIX_TO_FOUR, ip))
        return { family: 4, value: (ip.value >> 80n) & 0xffffffffn };
    return undefined;
}
/** What kind of non-public address `ip` is, or undefined for a public (globally reachable) one. */
export function nonPublicKind(address) {
    const ip = canonicalIp(address);
    const embedded = ip.family === 6 ? embeddedIpv4(ip) : undefined;
    if (embedded !== undefined)
        return nonPublicKind(embedded);
    let best;
    for (const range of SPECIAL_RANGES) {
        if (cidrContains(range.cidr, ip) && (best === undefined || range.cidr.prefix > best.cidr.prefix)) {
            best = range;
        }
    }
    if (best !== undefined)
        return best.kind;
    // Outside 2000::/3 IPv6 space is unassigned.
    return ip.family === 6 && !cidrContains(GLOBAL_UNICAST_V6, ip) ? 'reserved' : undefined;
}
