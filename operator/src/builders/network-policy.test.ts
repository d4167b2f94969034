import { plan } from '../testing/fixtures.js';
import { buildKernelNetworkPolicy, httpExtensionPorts } from './network-policy.js';

const dns = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

describe('the kernel NetworkPolicy', () => {
  it('admits the http and ws ports, and lets the kernels reach DNS and their managed store only', () => {
    const policy = buildKernelNetworkPolicy(plan())!;
    expect(policy.metadata?.name).toBe('demo');
    expect(policy.spec).toEqual({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
      },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          ports: [
            { protocol: 'TCP', port: 3000 },
            { protocol: 'TCP', port: 3001 },
          ],
        },
      ],
      egress: [
        dns,
        {
          to: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'nexus-store',
                  'app.kubernetes.io/instance': 'demo',
                },
              },
            },
          ],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
      ],
    });
  });

  it("opens every port towards an external Sentinel store's addresses (the Sentinels name the primary's), narrowed by egressCIDRs", () => {
    const sentinel = (egressCIDRs: string[]) =>
      buildKernelNetworkPolicy(
        plan({
          store: {
            mode: 'External',
            external: {
              urlSecretRef: { name: 'r', key: 'u' },
              topology: 'sentinel',
              sentinels: ['s2:26379'],
            },
          },
          networkPolicy: { egressCIDRs },
        }),
      )!.spec?.egress;
    expect(sentinel(['10.20.0.0/16'])).toEqual([dns, { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }] }]);
    expect(sentinel([])).toEqual([dns, {}]);
  });

  it('opens the http extension ports and an external store port, narrowed by egressCIDRs', () => {
    const policy = buildKernelNetworkPolicy(
      plan({
        server: { extensions: { http: { allowedDomains: ['api.example.com', 'hooks.example.com:8443'] } } },
        store: { mode: 'External', external: { urlSecretRef: { name: 'r', key: 'u' } } },
        networkPolicy: {
          egressCIDRs: ['203.0.113.0/24'],
          ingressFrom: [{ namespaceSelector: { matchLabels: { team: 'gateway' } } }],
        },
      }),
    )!;
    const to = [{ ipBlock: { cidr: '203.0.113.0/24' } }];
    expect(policy.spec?.egress).toEqual([
      dns,
      { to, ports: [{ protocol: 'TCP', port: 6379 }] },
      {
        to,
        ports: [
          { protocol: 'TCP', port: 80 },
          { protocol: 'TCP', port: 443 },
          { protocol: 'TCP', port: 8443 },
        ],
      },
    ]);
    expect(policy.spec?.ingress?.[0]?._from).toEqual([
      { namespaceSelector: { matchLabels: { team: 'gateway' } } },
    ]);
  });

  it('lets an embedded store reach only DNS, and is left out when disabled', () => {
    expect(buildKernelNetworkPolicy(plan({ store: { mode: 'Embedded' } }))?.spec?.egress).toEqual([dns]);
    expect(buildKernelNetworkPolicy(plan({ networkPolicy: { enabled: false } }))).toBeUndefined();
  });

  it('reads ports from allowedDomains', () => {
    expect(httpExtensionPorts([])).toEqual([]);
    expect(httpExtensionPorts(['a.example:9000'])).toEqual([9000]);
    expect(httpExtensionPorts(['*.a.example', 'b.example:443'])).toEqual([80, 443]);
    expect(httpExtensionPorts(['10.0.0.0/8:8443', '[fd00::1]'])).toEqual([80, 443, 8443]);
  });
});
