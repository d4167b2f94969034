// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which
// fails while this file differs): edit the source, then run
//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table
// HTTP_ALLOWED_DOMAINS: where the `http` extension may go. Pure parsing and matching.
//
// Entries are comma-separated and case-insensitive; each may end in `:port` (1-65535), which
// limits it to that port:
//   api.example.com           that host name
//   *.example.com             any subdomain of example.com (not example.com itself)
//   172.31.255.1              that IPv4 address
//   10.0.0.0/8                the IPv4 addresses of a CIDR block (host bits zero)
//   [fd00::1], [fd00::/8]     the same for IPv6, always in brackets
//
// A URL is admitted when its host is a name that a name entry matches, or an address literal that
// an address entry contains. A name's connection then uses only those of its addresses that are
// public or contained in an address entry (see address.ts for what is not public), so a name
// reaches a loopback, private, link-local or metadata address only when the address is listed
// too. Names no entry matches are never resolved.
import { canonicalIp, cidrContains, nonPublicKind, parseCidr, parseIp, } from './address.js';
const NAME = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$/;
const FORMS = 'a host name, *.host, an IPv4 address, a CIDR block or a bracketed IPv6 address or block';
function parsePort(entry, text) {
    const port = Number(text);
    if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
        throw new Error(`"${entry}" has port ${text || '(empty)'}, outside 1-65535`);
    }
    return port;
}
/** Splits `host[:port]` and `[v6][:port]`; refuses an IPv6 address without brackets. */
function splitPort(entry, text) {
    if (text.startsWith('[')) {
        const close = text.indexOf(']');
        const rest = close < 0 ? undefined : text.slice(close + 1);
        if (rest === undefined || (rest !== '' && !rest.startsWith(':'))) {
            throw new Error(`"${entry}" is not [IPv6 address or block] with an optional :port`);
        }
        const host = text.slice(1, close);
        return rest === ''
            ? { host, bracketed: true }
            : { host, port: parsePort(entry, rest.slice(1)), bracketed: true };
    }
    const colons = text.split(':').length - 1;
    if (colons > 1) {
        throw new Error(`"${entry}" looks like an IPv6 address: write it in brackets, e.g. [fd00::1] or [fd00::1]:8080`);
    }
    if (colons === 0)
        return { host: text, bracketed: false };
    const colon = text.indexOf(':');
    return { host: text.slice(0, colon), port: parsePort(entry, text.slice(colon + 1)), bracketed: false };
}
function addressCidr(entry, host, bracketed) {
    const named = (problem) => new Error(`"${entry}" ${problem}`);
    const slash = host.indexOf('/');
    if (bracketed) {
        const ip = parseIp(slash < 0 ? host : host.slice(0, slash));
        if (ip?.family !== 6)
            throw named('uses brackets, which hold an IPv6 address or block, e.g. [fd00::1] or [fd00::/8]');
        return slash < 0 ? single(ip) : wrap(() => parseCidr(host), named);
    }
    if (slash >= 0) {
        // Anything else with a slash is not an entry at all (a URL or a path).
        if (parseIp(host.slice(0, slash))?.family !== 4)
            return undefined;
        return wrap(() => parseCidr(host), named);
    }
    const ip = parseIp(host);
    if (ip !== undefined)
        return single(ip);
    // WHATWG URLs read a name whose last label is numeric as an IPv4 address; so must we.
    if (/(^|\.)(\d+|0x[0-9a-f]*)$/.test(host))
        throw named('is not a dotted-decimal IPv4 address');
    return undefined;
}
function wrap(parse, named) {
    try {
        return parse();
    }
    catch (error) {
        throw named(error.message.replace(/^"[^"]*" /, ''));
    }
}
function single(ip) {
    if (ip === undefined)
        return undefined;
    const address = canonicalIp(ip);
    return { family: address.family, base: address.value, prefix: address.family === 4 ? 32 : 128 };
}
/** Parses one entry; throws an Error naming the entry and what is wrong with it. */
export function parseDomainRule(entry) {
    const text = entry.trim().toLowerCase();
    if (text.includes('://'))
        throw new Error(`"${entry}" is not ${FORMS}: leave out the scheme`);
    const { host, port, bracketed } = splitPort(entry, text);
    const scope = port === undefined ? {} : { port };
    const cidr = addressCidr(entry, host, bracketed);
    if (cidr !== undefined)
        return Object.freeze({ kind: 'address', cidr, ...scope });
    const match = host.length <= 253 ? NAME.exec(host) : null;
    if (!match)
        throw new Error(`"${entry}" is not ${FORMS}, with an optional :port`);
    return Object.freeze({ kind: 'name', host: match[2], subdomains: match[1] !== undefined, ...scope });
}
export function parseAllowList(text) {
    return Object.freeze(text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
        .map(parseDomainRule));
}
export function effectivePort(url) {
    if (url.port !== '')
        return Number(url.port);
    return url.protocol === 'https:' ? 443 : 80;
}
const portMatches = (rule, port) => rule.port === undefined || rule.port === port;
/** True when an address entry contains `ip` (IPv4-mapped IPv6 counts as IPv4) on that port. */
export function addressListed(ip, port, rules) {
    const address = canonicalIp(ip);
    return rules.some((rule) => rule.kind === 'address' && cidrContains(rule.cidr, address) && portMatches(rule, port));
}
/**
 * Whether `url` may be requested, before any name is resolved: http(s) without credentials, and a
 * host that a name entry matches or an address literal that an address entry contains.
 */
export function admitUrl(url, rules) {
    const origin = `${url.protocol}//${url.host}`;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { allowed: false, reason: `${url.protocol} URLs are not supported (only http and https)` };
    }
    if (url.username !== '' || url.password !== '') {
        return {
            allowed: false,
            reason: `${origin}: URLs with credentials are refused (send an Authorization header)`,
        };
    }
    const port = effectivePort(url);
    const notListed = { allowed: false, reason: `${origin} is not in HTTP_ALLOWED_DOMAINS` };
    const literal = parseIp(url.hostname);
    if (literal !== undefined) {
        return addressListed(literal, port, rules)
            ? { allowed: true, host: url.hostname, port, literal }
            : notListed;
    }
    const host = url.hostname.toLowerCase();
    const named = rules.some((rule) => rule.kind === 'name' &&
        (rule.subdomains ? host.endsWith(`.${rule.host}`) : host === rule.host) &&
        portMatches(rule, port));
    return named ? { allowed: true, host, port } : notListed;
}
/**
 * Why a resolved address may not be connected to, or undefined when it may: public addresses are
 * fine for an admitted name, anything else needs an address entry that contains it.
 */
export function refusedAddress(ip, port, rules) {
    if (addressListed(ip, port, rules))
        return undefined;
    return nonPublicKind(ip);
}
