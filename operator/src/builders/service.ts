import type { V1Service } from '@kubernetes/client-node';
import { selectorLabels } from '../api/labels.js';
import { childMetadata } from './labels.js';
import { PORTS, type RuntimePlan } from './plan.js';

export function buildService(plan: RuntimePlan): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'service'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(plan.name),
      ports: [
        { name: 'http', port: PORTS.http, targetPort: 'http', protocol: 'TCP' },
        { name: 'ws', port: PORTS.ws, targetPort: 'ws', protocol: 'TCP' },
      ],
    },
  };
}

/** In-cluster addresses of a runtime's Service, published in status.endpoints. */
export function serviceEndpoints(name: string, namespace: string): { http: string; ws: string } {
  const host = `${name}.${namespace}.svc`;
  return { http: `http://${host}:${PORTS.http}`, ws: `ws://${host}:${PORTS.ws}` };
}
