// The CustomResourceDefinition of NexusRuntime, as an object ready to serialise.
import { CRD_NAME, GROUP, KIND, LIST_KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './group.js';
import { openAPIV3Schema } from './schema.js';

export function buildCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/part-of': 'nexus' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: ['nexus'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            {
              name: 'Replicas',
              type: 'integer',
              description: 'Ready kernel pods',
              jsonPath: '.status.readyReplicas',
            },
            {
              name: 'Desired',
              type: 'integer',
              description: 'Kernel pods wanted (by the HPA, spec.replicas, or 1 for an embedded store)',
              jsonPath: '.status.desiredReplicas',
            },
            {
              name: 'Store',
              type: 'string',
              description: 'Where the panels live: Managed, External or Embedded',
              jsonPath: '.status.store.mode',
            },
            {
              name: 'Mem/Instance',
              type: 'integer',
              description: 'MiB per sandbox instance',
              jsonPath: '.spec.runtime.memoryLimitMB',
            },
            {
              name: 'Instances',
              type: 'integer',
              description: 'Sandbox pool size per pod',
              jsonPath: '.status.memoryBudget.maxInstances',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            {
              name: 'Store Primary',
              type: 'string',
              description: 'A replicated managed store: the pod its Sentinels name as primary',
              jsonPath: '.status.store.primary',
              priority: 1,
            },
          ],
        },
      ],
    },
  };
}
