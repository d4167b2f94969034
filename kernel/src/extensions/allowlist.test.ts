import { isUrlAllowed, parseAllowList, parseDomainRule } from './allowlist.js';

describe('parseDomainRule', () => {
  it('parses hosts, wildcards and ports', () => {
    expect(parseDomainRule('API.Example.com')).toEqual({ host: 'api.example.com', subdomains: false });
    expect(parseDomainRule('*.example.com')).toEqual({ host: 'example.com', subdomains: true });
    expect(parseDomainRule('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', subdomains: false, port: 8080 });
    expect(parseDomainRule('localhost:3000')).toEqual({ host: 'localhost', subdomains: false, port: 3000 });
  });

  it.each([
    'http://example.com',
    'example.com/path',
    '*',
    '*.',
    'exa mple.com',
    'example.com:0',
    'example.com:70000',
    '-bad.com',
  ])('rejects %s naming the entry', (entry) => {
    expect(() => parseDomainRule(entry)).toThrow(entry);
  });
});

describe('isUrlAllowed', () => {
  const rules = parseAllowList('api.example.com, *.internal.test ,127.0.0.1:4000,,');

  it('matches exact hosts on any port', () => {
    expect(isUrlAllowed(new URL('https://api.example.com/x'), rules)).toBe(true);
    expect(isUrlAllowed(new URL('http://API.EXAMPLE.COM:8443/x'), rules)).toBe(true);
    expect(isUrlAllowed(new URL('https://example.com/x'), rules)).toBe(false);
    expect(isUrlAllowed(new URL('https://api.example.com.evil.org/x'), rules)).toBe(false);
  });

  it('matches subdomains only for wildcard rules', () => {
    expect(isUrlAllowed(new URL('https://a.b.internal.test/'), rules)).toBe(true);
    expect(isUrlAllowed(new URL('https://internal.test/'), rules)).toBe(false);
    expect(isUrlAllowed(new URL('https://xinternal.test/'), rules)).toBe(false);
  });

  it('requires the port when the rule names one', () => {
    expect(isUrlAllowed(new URL('http://127.0.0.1:4000/data'), rules)).toBe(true);
    expect(isUrlAllowed(new URL('http://127.0.0.1:4001/data'), rules)).toBe(false);
    expect(isUrlAllowed(new URL('http://127.0.0.1/data'), rules)).toBe(false);
  });

  it('refuses other schemes and URLs with credentials', () => {
    expect(isUrlAllowed(new URL('ftp://api.example.com/'), rules)).toBe(false);
    expect(isUrlAllowed(new URL('file:///etc/passwd'), rules)).toBe(false);
    expect(isUrlAllowed(new URL('https://user:pw@api.example.com/'), rules)).toBe(false);
  });

  it('allows nothing with an empty list', () => {
    expect(isUrlAllowed(new URL('https://api.example.com/'), parseAllowList(''))).toBe(false);
  });
});
