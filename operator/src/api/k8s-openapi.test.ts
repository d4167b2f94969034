import { OpenAPIError, documentFile, embeddedSchemas, type OpenAPIDocument } from './k8s-openapi.js';
import { K8S_SCHEMAS, K8S_SCHEMAS_VERSION } from './k8s-schemas.js';

const ref = (name: string) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });

/** The smallest documents that define every embedded field. */
function documents(): Record<string, OpenAPIDocument> {
  const core = {
    'io.k8s.api.core.v1.PodSpec': {
      properties: {
        tolerations: {
          type: 'array',
          description: 'tolerations',
          items: { ...ref('io.k8s.api.core.v1.Toleration'), default: {} },
          'x-kubernetes-list-type': 'atomic',
        },
        affinity: { ...ref('io.k8s.api.core.v1.Affinity'), description: 'affinity' },
        topologySpreadConstraints: {
          type: 'array',
          items: ref('io.k8s.api.core.v1.Toleration'),
          'x-kubernetes-list-map-keys': ['key'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'key',
        },
      },
    },
    'io.k8s.api.core.v1.Toleration': {
      description: 'a toleration',
      type: 'object',
      required: ['key'],
      properties: {
        key: { type: 'string', default: '' },
        seconds: { type: 'integer', format: 'int64' },
        effect: { type: 'string', enum: ['NoSchedule', 'NoExecute'] },
      },
    },
    'io.k8s.api.core.v1.Affinity': {
      type: 'object',
      properties: { labels: { type: 'object', additionalProperties: { type: 'string', default: '' } } },
      'x-kubernetes-map-type': 'atomic',
    },
  };
  return {
    'api/v1': { components: { schemas: core } },
    'apis/autoscaling/v2': {
      components: {
        schemas: {
          'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': {
            properties: { behavior: ref('io.k8s.api.autoscaling.v2.Behavior') },
          },
          'io.k8s.api.autoscaling.v2.Behavior': {
            type: 'object',
            properties: { tolerance: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
          },
          'io.k8s.apimachinery.pkg.api.resource.Quantity': {
            description: 'a quantity',
            oneOf: [{ type: 'string' }, { type: 'number' }],
          },
        },
      },
    },
    'apis/networking.k8s.io/v1': {
      components: {
        schemas: {
          'io.k8s.api.networking.v1.NetworkPolicyIngressRule': {
            properties: { from: { type: 'array', items: ref('io.k8s.api.networking.v1.Peer') } },
          },
          'io.k8s.api.networking.v1.Peer': { type: 'object', properties: { ipBlock: { type: 'object' } } },
        },
      },
    },
  };
}

describe('embeddedSchemas', () => {
  const schemas = embeddedSchemas(documents());

  it('inlines references, keeping the referring description and list semantics', () => {
    expect(schemas.tolerations).toEqual({
      description: 'tolerations',
      type: 'array',
      'x-kubernetes-list-type': 'atomic',
      items: {
        description: 'a toleration',
        type: 'object',
        required: ['key'],
        properties: {
          effect: { type: 'string', enum: ['NoSchedule', 'NoExecute'] },
          key: { type: 'string' },
          seconds: { type: 'integer', format: 'int64' },
        },
      },
    });
    expect(schemas.affinity).toMatchObject({ description: 'affinity', 'x-kubernetes-map-type': 'atomic' });
    expect(schemas.topologySpreadConstraints).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['key'],
    });
  });

  it('drops what a CRD schema cannot carry: defaults and patch strategies', () => {
    const text = JSON.stringify(schemas);
    expect(text).not.toContain('default');
    expect(text).not.toContain('x-kubernetes-patch');
    expect(text).not.toContain('$ref');
  });

  it('spells a quantity or int-or-string as a CRD does', () => {
    expect(schemas.behavior.properties?.tolerance).toEqual({
      description: 'a quantity',
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
  });

  it('names what is missing', () => {
    const docs = documents();
    delete docs['apis/autoscaling/v2'];
    expect(() => embeddedSchemas(docs)).toThrow(new OpenAPIError('no OpenAPI document apis/autoscaling/v2'));
    expect(documentFile('apis/networking.k8s.io/v1')).toBe('apis__networking.k8s.io__v1_openapi.json');
  });
});

describe('the committed schemas (api/k8s-schemas.ts)', () => {
  it('come from the pinned Kubernetes release and hold the fields users set', () => {
    expect(K8S_SCHEMAS_VERSION).toMatch(/^v1\.\d+\.\d+$/);
    expect(Object.keys(K8S_SCHEMAS.affinity.properties ?? {})).toEqual([
      'nodeAffinity',
      'podAffinity',
      'podAntiAffinity',
    ]);
    expect(K8S_SCHEMAS.topologySpreadConstraints.items?.required).toEqual([
      'maxSkew',
      'topologyKey',
      'whenUnsatisfiable',
    ]);
    expect(K8S_SCHEMAS.behavior.properties).toHaveProperty('scaleDown');
  });
});
