// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
import { type Cidr, type Ip, type RangeKind } from './address.js';
export interface NameRule {
    readonly kind: 'name';
    readonly host: string;
    readonly subdomains: boolean;
    readonly port?: number;
}
export interface AddressRule {
    readonly kind: 'address';
    readonly cidr: Cidr;
    readonly port?: number;
}
export type DomainRule = NameRule | AddressRule;
/** Parses one entry; throws an Error naming the entry and what is wrong with it. */
export declare function parseDomainRule(entry: string): DomainRule;
export declare function parseAllowList(text: string): readonly DomainRule[];
export declare function effectivePort(url: URL): number;
/** True when an address entry contains `ip` (IPv4-mapped IPv6 counts as IPv4) on that port. */
export declare function addressListed(ip: Ip, port: number, rules: readonly DomainRule[]): boolean;
export type UrlDecision = {
    readonly allowed: true;
    readonly host: string;
    readonly port: number;
    readonly literal?: Ip;
} | {
    readonly allowed: false;
    readonly reason: string;
};
/**
 * Whether `url` may be requested, before any name is resolved: http(s) without credentials, and a
 * host that a name entry matches or an address literal that an address entry contains.
 */
export declare function admitUrl(url: URL, rules: readonly DomainRule[]): UrlDecision;
/**
 * Why a resolved address may not be connected to, or undefined when it may: public addresses are
 * fine for an admitted name, anything else needs an address entry that contains it.
 */
export declare function refusedAddress(ip: Ip, port: number, rules: readonly DomainRule[]): RangeKind | undefined;
