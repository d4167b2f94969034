// Kubernetes' own schemas of the pod-scheduling and HPA fields the CRD passes through, taken from
// the OpenAPI v3 documents Kubernetes publishes (the API server's /openapi/v3, or the same files in
// the k8s.io/kubernetes module) and turned into structural CRD schemas. Pure: documents in,
// schemas out; tools/generate-k8s-schemas.ts does the reading and writes api/k8s-schemas.ts.
import type { JSONSchema } from './openapi.js';

/** Where each embedded field comes from: an OpenAPI v3 document, a definition, one of its properties. */
export const EMBEDDED_FIELDS = {
  tolerations: { document: 'api/v1', definition: 'io.k8s.api.core.v1.PodSpec', property: 'tolerations' },
  affinity: { document: 'api/v1', definition: 'io.k8s.api.core.v1.PodSpec', property: 'affinity' },
  topologySpreadConstraints: {
    document: 'api/v1',
    definition: 'io.k8s.api.core.v1.PodSpec',
    property: 'topologySpreadConstraints',
  },
  behavior: {
    document: 'apis/autoscaling/v2',
    definition: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec',
    property: 'behavior',
  },
  networkPolicyPeers: {
    document: 'apis/networking.k8s.io/v1',
    definition: 'io.k8s.api.networking.v1.NetworkPolicyIngressRule',
    property: 'from',
  },
} as const;
export type EmbeddedField = keyof typeof EMBEDDED_FIELDS;

/** The documents the fields come from, by path below /openapi/v3. */
export const EMBEDDED_DOCUMENTS = [...new Set(Object.values(EMBEDDED_FIELDS).map((f) => f.document))];

/** The file name of a document in k8s.io/kubernetes' api/openapi-spec/v3 directory. */
export function documentFile(document: string): string {
  return `${document.replaceAll('/', '__')}_openapi.json`;
}

interface OpenAPINode {
  $ref?: string;
  allOf?: OpenAPINode[];
  oneOf?: OpenAPINode[];
  type?: string;
  description?: string;
  properties?: Record<string, OpenAPINode>;
  items?: OpenAPINode;
  additionalProperties?: OpenAPINode | boolean;
  required?: string[];
  enum?: string[];
  format?: string;
  [extension: string]: unknown;
}

export interface OpenAPIDocument {
  components?: { schemas?: Record<string, OpenAPINode> };
}

// Extensions a CRD schema understands. Everything else (defaults — which would have to validate
// against required fields —, patch strategies, group-version-kinds, unions) is left out.
const KEPT_EXTENSIONS = ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type'];

export class OpenAPIError extends Error {}

class Converter {
  constructor(private readonly definitions: Record<string, OpenAPINode>) {}

  definition(name: string): OpenAPINode {
    const found = this.definitions[name];
    if (!found) throw new OpenAPIError(`the OpenAPI document defines no ${name}`);
    return found;
  }

  convert(node: OpenAPINode, seen: readonly string[]): JSONSchema {
    const { $ref, allOf } = node;
    if ($ref || allOf) {
      const refs = [$ref, ...(allOf ?? []).map((a) => a.$ref)].filter((r): r is string => !!r);
      if (refs.length !== 1 || (allOf && allOf.length !== 1)) {
        throw new OpenAPIError(`cannot inline ${JSON.stringify(node).slice(0, 200)}`);
      }
      const name = refs[0]!.replace('#/components/schemas/', '');
      if (seen.includes(name)) throw new OpenAPIError(`recursive schema ${[...seen, name].join(' → ')}`);
      const { $ref: _r, allOf: _a, ...rest } = node;
      // The referring property's description and list semantics win over the definition's.
      return { ...this.convert(this.definition(name), [...seen, name]), ...this.convert(rest, seen) };
    }
    const out: JSONSchema = {};
    if (node.description) out.description = node.description;
    if (node.oneOf) {
      // IntOrString and Quantity: an integer (or number) or a string, as CRDs spell it.
      out['x-kubernetes-int-or-string'] = true;
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
      return out;
    }
    if (node.type) out.type = node.type as JSONSchema['type'];
    if (node.format && node.format !== 'int-or-string') out.format = node.format;
    if (node.enum) out.enum = [...node.enum];
    if (node.required?.length) out.required = [...node.required];
    if (node.properties) {
      out.properties = Object.fromEntries(
        Object.entries(node.properties)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([key, child]) => [key, this.convert(child, seen)]),
      );
    }
    if (node.items) out.items = this.convert(node.items, seen);
    if (node.additionalProperties !== undefined) {
      if (typeof node.additionalProperties === 'boolean') {
        throw new OpenAPIError('boolean additionalProperties cannot be embedded');
      }
      out.additionalProperties = this.convert(node.additionalProperties, seen);
    }
    for (const extension of KEPT_EXTENSIONS) {
      if (node[extension] !== undefined) (out as Record<string, unknown>)[extension] = node[extension];
    }
    return out;
  }
}

/** The structural schema of every embedded field, from the documents keyed by their path. */
export function embeddedSchemas(
  documents: Record<string, OpenAPIDocument>,
): Record<EmbeddedField, JSONSchema> {
  const result = {} as Record<EmbeddedField, JSONSchema>;
  for (const [field, source] of Object.entries(EMBEDDED_FIELDS) as [
    EmbeddedField,
    (typeof EMBEDDED_FIELDS)[EmbeddedField],
  ][]) {
    const definitions = documents[source.document]?.components?.schemas;
    if (!definitions) throw new OpenAPIError(`no OpenAPI document ${source.document}`);
    const converter = new Converter(definitions);
    const property = converter.definition(source.definition).properties?.[source.property];
    if (!property) throw new OpenAPIError(`${source.definition} has no property ${source.property}`);
    result[field] = converter.convert(property, [source.definition]);
  }
  return result;
}
