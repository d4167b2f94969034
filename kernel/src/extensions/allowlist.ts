// HTTP_ALLOWED_DOMAINS: which hosts the `http` extension may reach. Pure parsing and matching.
//
// Entry forms (comma-separated, case-insensitive):
//   api.example.com        that host, any port
//   *.example.com          any subdomain of example.com (not example.com itself)
//   127.0.0.1:8080         that host on that port only (IPv4 addresses and `localhost` work the same)

export interface DomainRule {
  readonly host: string;
  readonly subdomains: boolean;
  readonly port?: number;
}

const ENTRY =
  /^(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/;

/** Parses one entry; throws an Error naming the entry when it is not a host, `*.host` or `host:port`. */
export function parseDomainRule(entry: string): DomainRule {
  const match = ENTRY.exec(entry.trim().toLowerCase());
  if (!match) {
    throw new Error(`"${entry}" is not a host name, "*.host" or "host:port"`);
  }
  const [, star, host, portText] = match;
  const rule: { host: string; subdomains: boolean; port?: number } = {
    host: host!,
    subdomains: star !== undefined,
  };
  if (portText !== undefined) {
    const port = Number(portText);
    if (port < 1 || port > 65535) throw new Error(`"${entry}" has port ${port}, outside 1-65535`);
    rule.port = port;
  }
  return Object.freeze(rule);
}

export function parseAllowList(text: string): readonly DomainRule[] {
  return Object.freeze(
    text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map(parseDomainRule),
  );
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** True when the URL is http(s) and its host (and port, when the rule names one) matches a rule. */
export function isUrlAllowed(url: URL, rules: readonly DomainRule[]): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username !== '' || url.password !== '') return false;
  const host = url.hostname.toLowerCase();
  const port = effectivePort(url);
  return rules.some(
    (rule) =>
      (rule.subdomains ? host.endsWith(`.${rule.host}`) : host === rule.host) &&
      (rule.port === undefined || rule.port === port),
  );
}
