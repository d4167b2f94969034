// `uniqueItems` in linear time. Ajv's own implementation compares every pair of items that are not
// all scalars of one type: 20,000 objects cost 200 million deep comparisons. Here each item is
// written once as canonical JSON (object keys sorted) and looked up in a Set, so the cost is the
// size of the array. Two JSON values are equal for JSON Schema exactly when their canonical texts
// are: numbers compare by value (1 and 1.0 are one number once parsed, and JSON.stringify writes
// -0 as 0, which Ajv also counts equal), strings by content, arrays in order, objects by key set.

import type { KeywordDefinition } from 'ajv';

/** JSON text of a parsed JSON value with every object's keys in sorted order. */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** The first pair of equal items (indices, in order), or undefined when all differ. */
export function firstDuplicate(items: readonly unknown[]): [number, number] | undefined {
  const seen = new Map<string, number>();
  for (let index = 0; index < items.length; index++) {
    const text = canonicalJson(items[index]);
    const earlier = seen.get(text);
    if (earlier !== undefined) return [earlier, index];
    seen.set(text, index);
  }
  return undefined;
}

interface UniqueValidate {
  (schema: boolean, data: unknown[]): boolean;
  errors?: { keyword: string; message: string; params: Record<string, unknown> }[];
}

const validateUnique: UniqueValidate = (schema, data) => {
  if (!schema) return true;
  const duplicate = firstDuplicate(data);
  if (duplicate === undefined) return true;
  const [i, j] = duplicate;
  validateUnique.errors = [
    {
      keyword: 'uniqueItems',
      message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
      params: { i: j, j: i },
    },
  ];
  return false;
};

/** Replaces Ajv's `uniqueItems` (ajv.removeKeyword('uniqueItems') first). */
export const uniqueItemsKeyword: KeywordDefinition = {
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  errors: true,
  validate: validateUnique,
};
