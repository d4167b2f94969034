// Where one request of the `http` extension goes: the URL is checked against the allow-list, its
// name resolved once, every address checked, and the connection then pinned to exactly the
// addresses that passed (a lookup function that answers with them), so a second DNS answer
// (rebinding) never reaches the socket.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { KernelError } from '../errors.js';
import { formatIp, parseIp } from './address.js';
import { type DomainRule, admitUrl, refusedAddress } from './allowlist.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to its addresses (the system resolver unless a test injects another). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses: LookupAddress[]) => {
      if (error) reject(error);
      else resolve(addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })));
    });
  });

export interface Target {
  readonly url: URL;
  /** The checked addresses the connection may use; empty for an address literal (no lookup). */
  readonly addresses: readonly ResolvedAddress[];
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Checks `url` and resolves its host; throws DOMAIN_NOT_ALLOWED, ADDRESS_NOT_ALLOWED or EXTENSION_FAILED. */
export async function resolveTarget(
  url: URL,
  rules: readonly DomainRule[],
  resolver: Resolver,
  signal: AbortSignal,
): Promise<Target> {
  const decision = admitUrl(url, rules);
  if (!decision.allowed) throw new KernelError('DOMAIN_NOT_ALLOWED', decision.reason);
  if (decision.literal !== undefined) return { url, addresses: [] };
  let answers: readonly ResolvedAddress[];
  try {
    answers = await abortable(resolver(decision.host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new KernelError('EXTENSION_FAILED', `${decision.host} could not be resolved: ${code}`);
  }
  const usable: ResolvedAddress[] = [];
  const refused: string[] = [];
  for (const answer of answers) {
    const ip = parseIp(answer.address);
    const kind = ip === undefined ? 'unparseable' : refusedAddress(ip, decision.port, rules);
    if (kind === undefined) usable.push({ address: formatIp(ip!), family: ip!.family });
    else refused.push(`${answer.address} (${kind})`);
  }
  if (usable.length === 0) {
    throw new KernelError(
      'ADDRESS_NOT_ALLOWED',
      refused.length === 0
        ? `${decision.host} resolved to no address`
        : `${decision.host} resolves to ${refused.join(', ')}; a name reaches such an address only when ` +
            `HTTP_ALLOWED_DOMAINS also lists the address or a CIDR block containing it (port ${decision.port})`,
    );
  }
  return { url, addresses: usable };
}

function notFound(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ENOTFOUND' });
}

/** A lookup for http.request that answers only with the target's checked addresses. */
export function pinnedLookup(target: Target): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    const addresses = target.addresses.filter((entry) => family === undefined || entry.family === family);
    if (hostname.toLowerCase() !== target.url.hostname.toLowerCase() || addresses[0] === undefined) {
      callback(notFound(`${hostname} has no checked address for this connection`), '', 0);
    } else if (options.all) {
      callback(
        null,
        addresses.map((entry) => ({ ...entry })),
      );
    } else {
      callback(null, addresses[0].address, addresses[0].family);
    }
  };
}
