// Which `Host` names the kernel answers to. A browser sends the name it resolved, so a page of
// another site whose name was made to resolve to this kernel (DNS rebinding: a port-forward on a
// developer's machine, a kernel reachable from a browser) is recognised by its Host. Answered by
// default: every IP literal (the kubelet's probes and Prometheus' scrapes name the pod's IP),
// localhost (kubectl port-forward), the Service's names when SERVICE_NAME (and SERVICE_NAMESPACE)
// are set, and the names ALLOWED_HOSTS lists (an Ingress' host), each on any port.

import { isIPv4, isIPv6 } from 'node:net';
import { KernelError } from '../errors.js';

export interface HostSettings {
  readonly extra: readonly string[];
  readonly service?: { readonly name: string; readonly namespace?: string };
}

const HOST_NAME =
  /^(?:\*|(?:\*\.)?[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*)$/;

/** ALLOWED_HOSTS: `name`, `*.domain` (its subdomains) or `*` (any host), lower-cased. */
export function parseHostList(text: string): readonly string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ''))
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!HOST_NAME.test(entry)) throw new Error(`"${entry}" is not a host name, *.domain or *`);
  }
  return Object.freeze(entries);
}

/** The name of a Host header without its port (IPv6 literals keep their brackets), lower-cased. */
export function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return (colon < 0 ? host : host.slice(0, colon)).replace(/\.$/, '');
}

/** The names a kernel behind Service `name` in `namespace` is reached by, on any port. */
export function serviceNames(service: HostSettings['service']): string[] {
  if (service === undefined) return [];
  const { name, namespace } = service;
  if (namespace === undefined) return [name];
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

/** Returns whether a request naming `header` as its Host is answered (undefined: no Host sent). */
export function createHostCheck(settings: HostSettings): (header: string | undefined) => boolean {
  const exact = new Set(['localhost', ...serviceNames(settings.service)]);
  const suffixes: string[] = [];
  let any = false;
  for (const entry of settings.extra) {
    if (entry === '*') any = true;
    else if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else exact.add(entry);
  }
  return (header) => {
    // HTTP/1.0 may omit Host; browsers never do, so there is nothing to rebind.
    if (header === undefined) return true;
    if (any) return true;
    const name = hostName(header);
    if (name.startsWith('[')) return name.endsWith(']') && isIPv6(name.slice(1, -1));
    if (isIPv4(name) || exact.has(name)) return true;
    return suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
  };
}

/** Whether an Origin header may open a WebSocket: listed in CORS_ORIGINS, or the request's own host. */
export function originAllowed(
  origin: string,
  host: string | undefined,
  corsOrigins: readonly string[],
): boolean {
  if (corsOrigins.includes('*') || corsOrigins.includes(origin)) return true;
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return url.host === new URL(`http://${host.trim()}`).host;
  } catch {
    return false;
  }
}

/** The refusal of a Host the kernel does not answer to (421 on both ports), naming it and the setting. */
export function hostRefused(host: string): KernelError {
  return new KernelError(
    'HOST_NOT_ALLOWED',
    `this kernel does not answer to Host ${JSON.stringify(host.slice(0, 256))}: it answers to IP addresses, localhost, its Service's names and the names in ALLOWED_HOSTS`,
  );
}
