// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
export type IpFamily = 4 | 6;
export interface Ip {
    readonly family: IpFamily;
    readonly value: bigint;
}
export interface Cidr {
    readonly family: IpFamily;
    /** The network address (host bits zero). */
    readonly base: bigint;
    readonly prefix: number;
}
/** Strict dotted-decimal IPv4 (no leading zeros, no shorthand forms). */
export declare function parseIpv4(text: string): Ip | undefined;
/** IPv6 in any textual form (`::` shorthand, a trailing dotted IPv4, a `%zone`, which is ignored). */
export declare function parseIpv6(text: string): Ip | undefined;
/** An IPv4 or IPv6 address (IPv6 may be in brackets, as in a URL's host). */
export declare function parseIp(text: string): Ip | undefined;
/** `10.0.0.0/8`, `fd00::/8`. Throws a message naming the problem; host bits must be zero. */
export declare function parseCidr(text: string): Cidr;
export declare function cidrContains(cidr: Cidr, ip: Ip): boolean;
export declare function formatIp(ip: Ip): string;
/** An IPv4-mapped IPv6 address is that IPv4 address (a dual-stack socket connects to it as such). */
export declare function canonicalIp(ip: Ip): Ip;
export type RangeKind = 'unspecified' | 'loopback' | 'private' | 'shared (CGNAT)' | 'link-local' | 'cloud metadata' | 'unique-local' | 'multicast' | 'reserved';
/** What kind of non-public address `ip` is, or undefined for a public (globally reachable) one. */
export declare function nonPublicKind(address: Ip): RangeKind | undefined;
