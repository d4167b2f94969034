// What validating against an argument schema can cost, decided when the panel is created. Pure: a
// schema in, its problems and its cost bound out.
//
// Validation visits each value of the arguments with some schema nodes. Work beyond linear comes
// from nodes that apply several schemas to one value (allOf, anyOf, oneOf, not, if/then/else,
// dependencies, $ref) and from recursion that applies them again at every level: two `anyOf`
// branches that each send a child back to `#` evaluate 2^depth schemas at the bottom. The analysis
// computes, for a value nested up to MAX_VALUE_DEPTH levels below the root, an upper bound of the
// schema evaluations that any single value can meet (its "evaluations per value"), and refuses a
// schema above MAX_EVALUATIONS_PER_VALUE. The validator then bounds a request's work by
// evaluations per value × the bytes of its arguments (MAX_VALIDATION_WORK), so a schema accepted
// here validates any accepted body in bounded, linear work. Patterns are checked here too: the
// engine (regexp.ts) must accept each one.
//
// The bound: for a schema node S applied to a value whose subtree is h levels high,
//   here(S)   = weight(S) + Σ here(C) over the in-place subschemas C of S (combinators, $ref), and
//   amp(S, h) = max(here(S), max over child positions p of Σ amp(C, h-1) over the subschemas C of
//               S and of its in-place closure that apply at p),
// memoised by (node, h). A child position is an object key (the schemas of `properties[key]`, plus
// every `additionalProperties` and `patternProperties` subschema, which over-approximates), the
// other keys, a tuple index or the other items; a key's name meets `propertyNames` and each
// `patternProperties` pattern. An in-place cycle ($ref back to an ancestor without descending into
// the value) never terminates, and is refused.

import { MAX_VALUE_DEPTH } from '../panels/definition.js';
import {
  ENUM_BYTES_PER_EVALUATION,
  MAX_ANALYSIS_STEPS,
  MAX_EVALUATIONS_PER_VALUE,
  UNIQUE_ITEMS_WEIGHT,
} from './limits.js';
import { PatternRefused, compileLinear } from './regexp.js';
import type { ValidationProblem } from './protocol.js';

/** Keywords whose subschemas apply to the same value. */
const IN_PLACE_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;
const IN_PLACE_SINGLE = ['not', 'if', 'then', 'else'] as const;
const IN_PLACE_MAPS = ['dependencies', 'dependentSchemas'] as const;
/** Keywords whose subschemas apply to child values. */
const CHILD_SINGLE = [
  'additionalProperties',
  'unevaluatedProperties',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'propertyNames',
] as const;
const CHILD_MAPS = ['properties', 'patternProperties'] as const;
/** Keywords whose values are schemas reached only by $ref. */
const DEFINITIONS = ['definitions', '$defs'] as const;

type Schema = boolean | Record<string, unknown>;

export interface SchemaAnalysis {
  /** Every problem, each with the JSON pointer of the construct inside the schema. */
  readonly problems: ValidationProblem[];
  /** Upper bound of schema evaluations per argument value (when there is no problem). */
  readonly evaluationsPerValue: number;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'boolean' || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

function escape(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function join(pointer: string, ...tokens: (string | number)[]): string {
  return `${pointer === '/' ? '' : pointer}/${tokens.map((token) => escape(String(token))).join('/')}`;
}

/** Every subschema of `schema` with its pointer, each once (the tree as written, $ref not followed). */
function* subschemas(schema: Record<string, unknown>, pointer: string): Generator<[Schema, string]> {
  for (const keyword of [...IN_PLACE_LISTS, 'items'] as const) {
    const list = schema[keyword];
    if (Array.isArray(list))
      for (const [index, item] of list.entries())
        if (isSchema(item)) yield [item, join(pointer, keyword, index)];
  }
  for (const keyword of [...IN_PLACE_SINGLE, ...CHILD_SINGLE, 'items'] as const) {
    const value = schema[keyword];
    if (isSchema(value)) yield [value, join(pointer, keyword)];
  }
  for (const keyword of [...IN_PLACE_MAPS, ...CHILD_MAPS, ...DEFINITIONS] as const) {
    const map = schema[keyword];
    if (isSchema(map) && typeof map === 'object')
      for (const [key, value] of Object.entries(map))
        if (isSchema(value) && !(keyword === 'dependencies' && Array.isArray(value)))
          yield [value, join(pointer, keyword, key)];
  }
}

/** One pass over the written tree: pointers of nodes, pattern and $id problems. */
function survey(root: Schema, problems: ValidationProblem[]): Map<object, string> {
  const pointers = new Map<object, string>();
  const visit = (node: Schema, pointer: string): void => {
    if (typeof node === 'boolean' || pointers.has(node)) return;
    pointers.set(node, pointer);
    if (node !== root && typeof node.$id === 'string') {
      problems.push({
        path: join(pointer, '$id'),
        message:
          '$id is supported only at the root of an argument schema (inside, it changes what $ref means)',
      });
    }
    const check = (pattern: string, path: string): void => {
      try {
        compileLinear(pattern);
      } catch (error) {
        if (!(error instanceof PatternRefused)) throw error;
        problems.push({
          path,
          message: `pattern ${JSON.stringify(pattern).slice(0, 120)}: ${error.message}`,
        });
      }
    };
    if (typeof node.pattern === 'string') check(node.pattern, join(pointer, 'pattern'));
    if (isSchema(node.patternProperties) && typeof node.patternProperties === 'object')
      for (const key of Object.keys(node.patternProperties))
        check(key, join(pointer, 'patternProperties', key));
    if (typeof node.$ref === 'string' && node.$ref !== '#' && !node.$ref.startsWith('#/')) {
      problems.push({
        path: join(pointer, '$ref'),
        message: `$ref ${JSON.stringify(node.$ref).slice(0, 120)}: only references inside the schema ("#" or "#/…") are supported`,
      });
    }
    for (const [child, path] of subschemas(node, pointer)) visit(child, path);
  };
  visit(root, '/');
  return pointers;
}

function resolve(root: Schema, ref: string): Schema | undefined {
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return isSchema(node) ? node : undefined;
}

/** What one schema node (with its in-place closure) applies to a value and to its children. */
interface Summary {
  here: number;
  /** Per named key: evaluations from `properties[key]` of the closure. */
  keys: Map<string, number>;
  /** Applying to every key: additionalProperties, patternProperties, unevaluatedProperties. */
  anyKey: number;
  /** Evaluations of each key's name (propertyNames, and each patternProperties pattern). */
  names: number;
  /** Per tuple index: evaluations from `items: [...]`. */
  tuple: Map<number, number>;
  /** Applying to every item: items (one schema), additionalItems, contains, unevaluatedItems. */
  anyItem: number;
}

class TooCostly extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

class Analyser {
  private readonly cap = MAX_EVALUATIONS_PER_VALUE + 1;
  private readonly summaries = new Map<object, Map<number, Summary>>();
  private readonly amps = new Map<object, Map<number, number>>();
  /** Nodes whose summary at a height is being computed: meeting one again there is a cycle. */
  private readonly inPlacePath = new Map<number, Set<object>>();
  private steps = 0;

  constructor(
    private readonly root: Schema,
    private readonly pointers: Map<object, string>,
  ) {}

  private add(a: number, b: number): number {
    return Math.min(this.cap, a + b);
  }

  private step(count = 1): void {
    this.steps += count;
    if (this.steps > MAX_ANALYSIS_STEPS)
      throw new TooCostly('/', `the schema is too complex to analyse within ${MAX_ANALYSIS_STEPS} steps`);
  }

  private pointer(node: object): string {
    return this.pointers.get(node) ?? '/';
  }

  /** Upper bound of evaluations met by one value in a subtree `height` levels high under `node`. */
  amp(node: Schema, height: number): number {
    if (typeof node === 'boolean') return 1;
    let byHeight = this.amps.get(node);
    const known = byHeight?.get(height);
    if (known !== undefined) return known;
    const summary = this.summary(node, height);
    let amp = summary.here;
    if (height > 0) {
      let maxKey = 0;
      for (const count of summary.keys.values()) maxKey = Math.max(maxKey, count);
      let maxIndex = 0;
      for (const count of summary.tuple.values()) maxIndex = Math.max(maxIndex, count);
      amp = Math.max(
        amp,
        this.add(maxKey, summary.anyKey),
        this.add(maxIndex, summary.anyItem),
        summary.names,
      );
    }
    if (amp >= this.cap) {
      const culprit = this.culprit(node);
      throw new TooCostly(
        this.pointer(culprit),
        `validating one value may evaluate more than ${MAX_EVALUATIONS_PER_VALUE} schemas: the ${describeMultipliers(culprit)} here multiply at each of up to ${MAX_VALUE_DEPTH} nesting levels of the arguments (reached through ${this.pointer(node)})`,
      );
    }
    if (byHeight === undefined) this.amps.set(node, (byHeight = new Map<number, number>()));
    byHeight.set(height, amp);
    return amp;
  }

  /** The schema to blame for a multiplication found at `node`: the first with a combinator along its $refs. */
  private culprit(node: Record<string, unknown>): Record<string, unknown> {
    let current = node;
    for (let hops = 0; hops < 32; hops++) {
      if (
        [...IN_PLACE_LISTS, ...IN_PLACE_SINGLE, ...IN_PLACE_MAPS].some(
          (keyword) => current[keyword] !== undefined,
        )
      )
        return current;
      const target = typeof current.$ref === 'string' ? resolve(this.root, current.$ref) : undefined;
      if (target === undefined || typeof target === 'boolean') return current;
      current = target;
    }
    return node;
  }

  private summary(node: Record<string, unknown>, height: number): Summary {
    let byHeight = this.summaries.get(node);
    const known = byHeight?.get(height);
    if (known !== undefined) return known;
    let path = this.inPlacePath.get(height);
    if (path === undefined) this.inPlacePath.set(height, (path = new Set()));
    if (path.has(node)) {
      throw new TooCostly(
        this.pointer(node),
        '$ref cycle: this schema applies itself to the same value again without descending into it (infinite recursion)',
      );
    }
    path.add(node);
    this.step();
    const summary: Summary = {
      here: weight(node),
      keys: new Map(),
      anyKey: 0,
      names: 0,
      tuple: new Map(),
      anyItem: 0,
    };
    const merge = (inner: Summary): void => {
      summary.here = this.add(summary.here, inner.here);
      this.step(inner.keys.size + inner.tuple.size);
      for (const [key, count] of inner.keys)
        summary.keys.set(key, this.add(summary.keys.get(key) ?? 0, count));
      for (const [index, count] of inner.tuple)
        summary.tuple.set(index, this.add(summary.tuple.get(index) ?? 0, count));
      summary.anyKey = this.add(summary.anyKey, inner.anyKey);
      summary.anyItem = this.add(summary.anyItem, inner.anyItem);
      summary.names = this.add(summary.names, inner.names);
    };
    const inPlace = (child: unknown): void => {
      if (typeof child === 'boolean') summary.here = this.add(summary.here, 1);
      else if (isSchema(child) && typeof child === 'object') merge(this.summary(child, height));
    };
    try {
      if (typeof node.$ref === 'string') {
        const target = resolve(this.root, node.$ref);
        if (target === undefined)
          throw new TooCostly(
            join(this.pointer(node), '$ref'),
            `$ref ${JSON.stringify(node.$ref).slice(0, 120)} does not name a schema in this document`,
          );
        inPlace(target);
      }
      for (const keyword of IN_PLACE_LISTS) {
        const list = node[keyword];
        if (Array.isArray(list)) for (const item of list) inPlace(item);
      }
      for (const keyword of IN_PLACE_SINGLE) inPlace(node[keyword]);
      for (const keyword of IN_PLACE_MAPS) {
        const map = node[keyword];
        if (isSchema(map) && typeof map === 'object')
          for (const value of Object.values(map)) if (!Array.isArray(value)) inPlace(value);
      }
      // Children: only when the value can have any (height > 0).
      if (height > 0) {
        const below = (child: unknown): number => (isSchema(child) ? this.amp(child, height - 1) : 0);
        const properties = node.properties;
        if (isSchema(properties) && typeof properties === 'object') {
          this.step(Object.keys(properties).length);
          for (const [key, child] of Object.entries(properties))
            summary.keys.set(key, this.add(summary.keys.get(key) ?? 0, below(child)));
        }
        const patterns = node.patternProperties;
        if (isSchema(patterns) && typeof patterns === 'object') {
          for (const child of Object.values(patterns))
            summary.anyKey = this.add(summary.anyKey, below(child));
          summary.names = this.add(summary.names, Object.keys(patterns).length);
        }
        summary.anyKey = this.add(summary.anyKey, below(node.additionalProperties));
        summary.anyKey = this.add(summary.anyKey, below(node.unevaluatedProperties));
        if (isSchema(node.propertyNames))
          summary.names = this.add(summary.names, this.amp(node.propertyNames, 0));
        if (Array.isArray(node.items)) {
          for (const [index, child] of node.items.entries())
            summary.tuple.set(index, this.add(summary.tuple.get(index) ?? 0, below(child)));
        } else summary.anyItem = this.add(summary.anyItem, below(node.items));
        for (const keyword of ['additionalItems', 'contains', 'unevaluatedItems'])
          summary.anyItem = this.add(summary.anyItem, below(node[keyword]));
      }
    } finally {
      path.delete(node);
    }
    if (summary.here >= this.cap) {
      throw new TooCostly(
        this.pointer(node),
        `validating one value may evaluate more than ${MAX_EVALUATIONS_PER_VALUE} schemas: the ${describeMultipliers(node)} here apply too many schemas to one value`,
      );
    }
    if (byHeight === undefined) this.summaries.set(node, (byHeight = new Map<number, Summary>()));
    byHeight.set(height, summary);
    return summary;
  }
}

/** A node's own cost: 1, plus its `enum`/`const` values' size (each is a deep comparison), plus `uniqueItems`. */
function weight(node: Record<string, unknown>): number {
  let bytes = 0;
  if (Array.isArray(node.enum)) bytes += JSON.stringify(node.enum).length;
  if (node.const !== undefined) bytes += JSON.stringify(node.const).length;
  const unique = node.uniqueItems === true ? UNIQUE_ITEMS_WEIGHT : 0;
  return 1 + unique + Math.floor(bytes / ENUM_BYTES_PER_EVALUATION);
}

/** The keywords of a node that apply several schemas to one value, for messages. */
function describeMultipliers(node: Record<string, unknown>): string {
  const found = [...IN_PLACE_LISTS, ...IN_PLACE_SINGLE, ...IN_PLACE_MAPS, '$ref', 'enum', 'const'].filter(
    (keyword) => node[keyword] !== undefined,
  );
  const children = [...CHILD_MAPS, 'items', 'additionalProperties', 'additionalItems', 'contains'].filter(
    (keyword) => node[keyword] !== undefined,
  );
  const names = [...found, ...children].map((keyword) => `\`${keyword}\``);
  return names.length === 0 ? 'schemas' : `${names.join(', ')} (and the $refs they reach)`;
}

/** Problems of an argument schema that would make validation costly or unbounded, and its cost. */
export function analyseSchema(schema: unknown): SchemaAnalysis {
  if (!isSchema(schema))
    return {
      problems: [{ path: '/', message: 'a schema is an object or a boolean' }],
      evaluationsPerValue: 1,
    };
  const problems: ValidationProblem[] = [];
  const pointers = survey(schema, problems);
  if (problems.length > 0) return { problems, evaluationsPerValue: 1 };
  try {
    const evaluationsPerValue = new Analyser(schema, pointers).amp(schema, MAX_VALUE_DEPTH);
    return { problems, evaluationsPerValue };
  } catch (error) {
    if (error instanceof TooCostly)
      return { problems: [{ path: error.path, message: error.message }], evaluationsPerValue: 1 };
    if (error instanceof RangeError)
      return {
        problems: [
          { path: '/', message: 'the schema is too complex to analyse (its $refs nest too deeply)' },
        ],
        evaluationsPerValue: 1,
      };
    throw error;
  }
}
