import { plan } from '../testing/fixtures.js';
import { buildService, serviceEndpoints } from './service.js';

describe('the kernel Service', () => {
  it('is a ClusterIP service selecting the kernel pods on http and ws', () => {
    const s = buildService(plan());
    expect(s.metadata?.name).toBe('demo');
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'workspace-kernel', 'app.kubernetes.io/instance': 'demo' },
      ports: [
        { name: 'http', port: 3000, targetPort: 'http', protocol: 'TCP' },
        { name: 'ws', port: 3001, targetPort: 'ws', protocol: 'TCP' },
      ],
    });
  });

  it('publishes in-cluster endpoints', () => {
    expect(serviceEndpoints('demo', 'team-a')).toEqual({
      http: 'http://demo.team-a.svc:3000',
      ws: 'ws://demo.team-a.svc:3001',
    });
  });
});
