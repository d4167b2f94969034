import type { V1Service } from '@kubernetes/client-node';
import { Component } from '../../api/children.js';
import { selectorLabels } from '../../api/labels.js';
import { childMetadata } from '../labels.js';
import { PORTS, type RuntimePlan } from '../plan.js';

/** The managed store's Service: the address in the Secret's URL, and the StatefulSet's service. */
export function buildStoreService(plan: RuntimePlan): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(plan, 'storeService'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(plan.name, Component.Store),
      ports: [{ name: 'redis', port: PORTS.store, targetPort: 'redis', protocol: 'TCP' }],
    },
  };
}
