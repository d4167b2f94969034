import { spec } from '../testing/fixtures.js';
import { kernelRefusal } from './kernel-values.js';

const withDomains = (allowedDomains: string[]) =>
  spec({ server: { extensions: { http: { allowedDomains } } } });

describe('kernelRefusal', () => {
  it('accepts what the kernel accepts', () => {
    expect(kernelRefusal(spec())).toBeUndefined();
    expect(
      kernelRefusal(withDomains(['api.example.com', '*.example.org:443', '10.0.0.0/8', '[fd00::/8]'])),
    ).toBeUndefined();
  });

  // Each of these matches the schema's pattern for an entry; the kernel refuses them.
  it.each([
    ['10.0.0.1/8', 'has bits set beyond its prefix length'],
    ['10.0.0.0/40', 'has prefix length 40'],
    ['999.0.0.0/8', 'is not a host name'],
    ['api.example.com:99999', 'has port 99999'],
  ])('refuses %s in the kernel’s words', (entry, words) => {
    const refusal = kernelRefusal(withDomains(['api.example.com', entry]));
    expect(refusal?.reason).toBe('InvalidSpec');
    expect(refusal?.message).toContain(`server.extensions.http.allowedDomains: "${entry}" ${words}`);
  });
});
