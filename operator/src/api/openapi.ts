// A typed subset of OpenAPI v3 for CRD schemas, and small constructors that keep schema.ts readable.

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchema>;
  items?: JSONSchema;
  additionalProperties?: JSONSchema;
  required?: string[];
  enum?: readonly string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: JSONSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: {
    rule: string;
    message?: string;
    messageExpression?: string;
    reason?: string;
    fieldPath?: string;
  }[];
}

export type Extra = Omit<JSONSchema, 'type' | 'description'>;

export const object = (
  description: string,
  properties: Record<string, JSONSchema>,
  extra: Extra = {},
): JSONSchema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});
export const integer = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'integer',
  description,
  ...extra,
});
export const string = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'string',
  description,
  ...extra,
});
export const boolean = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'boolean',
  description,
  ...extra,
});
export const stringMap = (description: string): JSONSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});
export const stringList = (description: string, maxItems = 64, pattern?: string): JSONSchema => ({
  type: 'array',
  description,
  maxItems,
  items: { type: 'string', maxLength: 253, ...(pattern ? { pattern } : {}) },
  'x-kubernetes-list-type': 'atomic',
});
/** A memory quantity; the CEL quantity library validates it so budget rules can compute with it. */
export const memoryQuantity = (description: string, fallback: string): JSONSchema =>
  string(description, {
    default: fallback,
    maxLength: 32,
    'x-kubernetes-validations': [
      {
        rule: "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
        message: 'must be a positive quantity such as 256Mi or 1Gi',
      },
    ],
  });
/** Bytes as the largest binary unit that divides them: 16Gi, 256Mi, 1Ki, 100. */
export function binaryBytes(bytes: number): string {
  const units = ['Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const;
  for (const [index, unit] of units.entries()) {
    const size = 1024 ** (units.length - index);
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
/** A memory quantity of at most `max` bytes (what the kernel accepts for the variable it feeds). */
export const cappedMemoryQuantity = (description: string, fallback: string, max: number): JSONSchema => {
  const schema = memoryQuantity(description, fallback);
  return {
    ...schema,
    'x-kubernetes-validations': [
      ...(schema['x-kubernetes-validations'] ?? []),
      {
        rule: `!isQuantity(self) || !quantity(self).isGreaterThan(quantity('${binaryBytes(max)}'))`,
        message: `must be at most ${binaryBytes(max)}`,
      },
    ],
  };
};
/** A memory quantity within [min, max] bytes (what the kernel accepts for the variable it feeds). */
export const boundedQuantity = (
  description: string,
  fallback: string,
  bounds: { min: number; max: number },
): JSONSchema => ({
  ...memoryQuantity(description, fallback),
  'x-kubernetes-validations': [
    {
      rule: `isQuantity(self) && quantity(self).asInteger() >= ${bounds.min} && quantity(self).asInteger() <= ${bounds.max}`,
      message: `must be a quantity from ${binaryBytes(bounds.min)} to ${binaryBytes(bounds.max)}`,
    },
  ],
});
export const cpuQuantity = (description: string, fallback: string): JSONSchema => ({
  description,
  default: fallback,
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  minimum: 0,
  maxLength: 32,
  pattern: '^[0-9]+(\\.[0-9]+)?m?$',
});
export const intOrPercent = (description: string): JSONSchema => ({
  description,
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  minimum: 0,
  maxLength: 4,
  pattern: '^(100|[1-9]?[0-9])%$',
});
