import {
  context,
  failure,
  successValue,
  suspension,
  useHostileRuntime,
  mutations,
  events,
  returned,
} from './support.js';

describe('hostile: thrown values that are not Errors', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 1000 });

  const thrown: [string, string, RegExp][] = [
    ['a number', 'throw 42', /42/],
    ['a string', "throw 'plain string'", /plain string/],
    ['null', 'throw null', /null/],
    ['undefined', 'throw undefined', /undefined/],
    ['a plain object', "throw { message: 'object message' }", /object message/],
    ['a symbol', "throw Symbol('sym')", /sym/i],
    ['an object whose toString throws', "throw { toString() { throw new Error('nested') } }", /./],
    [
      'an Error whose message getter throws',
      "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw 1 } }); throw e",
      /./,
    ],
    ['an Error subclass', "class MyError extends Error {} throw new MyError('custom')", /custom/],
    ['a rejected promise of a number', 'await Promise.reject(7)', /7/],
    ['a frozen object with a null prototype', 'throw Object.freeze(Object.create(null))', /./],
  ];

  it.each(thrown)('reports %s as EXECUTION_ERROR with a message', async (_name, code, message) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('EXECUTION_ERROR');
    expect(error.message).toMatch(message);
  });
});

describe('hostile: escaping the sandbox', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 1000 });

  const forbidden: [string, string][] = [
    ['eval', "return eval('1 + 1')"],
    ['indirect eval', "return (0, globalThis['ev' + 'al'])('1 + 1')"],
    ['the Function constructor', "return new Function('return 1')()"],
    ['Function via a function’s constructor', "return (function () {}).constructor('return 1')()"],
    ['AsyncFunction via its constructor', "return await (async function () {}).constructor('return 1')()"],
    [
      'GeneratorFunction via its constructor',
      "return (function* () {}).constructor('yield 1')().next().value",
    ],
    ['AsyncGeneratorFunction via its constructor', "return (async function* () {}).constructor('yield 1')"],
    ['Reflect.construct on Function', "return Reflect.construct(Function, ['return 1'])()"],
    ['dynamic import', "return await import('os')"],
    ['require', "return require('fs')"],
    ['WebAssembly', 'return new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))'],
  ];

  it.each(forbidden)('refuses %s with EXECUTION_ERROR', async (_name, code) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('EXECUTION_ERROR');
    // The refusal itself, not some unrelated failure on the way to it.
    expect(error.message).toMatch(/not supported|not defined|not a function|could not load module/i);
  });

  it('exposes no engine or host globals beyond the documented ones', async () => {
    const result = await runtime().executeHandler(
      `return [typeof WebAssembly, typeof std, typeof os, typeof scriptArgs, typeof print,
               typeof process, typeof require, typeof module, typeof Deno, typeof Bun]`,
      context(),
    );
    expect(successValue(result)).toEqual(Array(10).fill('undefined'));
  });

  it.each([
    ['a static import', "import fs from 'fs';\nreturn fs"],
    ['closing the wrapper early', 'return 1; });\nglobalThis.escaped = (async () => {'],
    ['closing the wrapper and reopening it', '}); (async function () {'],
    ['a stray closing brace', 'return 1; }'],
  ])('refuses %s with COMPILATION_ERROR', async (_name, code) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('COMPILATION_ERROR');
  });

  it('keeps a NUL character inside the source', async () => {
    expect(successValue(await runtime().executeHandler("return 'a\u0000b'.length", context()))).toBe(3);
  });

  it('returns lone surrogates without failing the host', async () => {
    const result = await runtime().executeHandler("return '\\uD800x'", context());
    expect(result.status).toBe('success');
    expect(typeof returned(result)).toBe('string');
  });

  it('runs a megabyte of source', async () => {
    const code = `let n = 0;\n${'n += 1;\n'.repeat(128 * 1024)}return n;`;
    expect(successValue(await runtime().executeHandler(code, context()))).toBe(128 * 1024);
  });
});

describe('hostile: tampering with the injected globals and prototypes', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 1000 });
  const kv = { capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } };

  it('keeps the result intact when JSON and Object prototypes are replaced', async () => {
    const result = await runtime().executeHandler(
      `JSON.stringify = () => '"hacked"';
       JSON.parse = () => 'hacked';
       Object.prototype.hacked = true;
       Array.prototype.push = () => { throw new Error('push tampered') };
       return { a: [1, 2] };`,
      context(),
    );
    expect(successValue(result)).toEqual({ a: [1, 2] });
  });

  it('keeps the injected globals in place when the handler tries to replace them', async () => {
    const result = await runtime().executeHandler(
      `const emit = $emit;
       try { Object.setPrototypeOf($state, {}) } catch (e) {}
       try { globalThis.$emit = () => {} } catch (e) {}
       try { Object.defineProperty(globalThis, '$state', { value: {} }) } catch (e) {}
       try { delete globalThis.$view } catch (e) {}
       $state.count = 1;
       $emit('kept', 1);
       return [$emit === emit, typeof $view.focus];`,
      context({ capabilities: ['state:write:*', 'events:emit:*'] }),
    );
    expect(successValue(result)).toEqual([true, 'function']);
    expect(mutations(result)).toEqual([{ key: 'count', value: 1, operation: 'set' }]);
    expect(events(result)).toEqual([{ name: 'kept', payload: 1 }]);
  });

  it('exposes no globals beyond the language’s and the documented ones', async () => {
    // Everything QuickJS-ng itself may define; the handler must see nothing else but the
    // documented $-globals (no raw host functions that could be called directly).
    const language = `Object Function Error EvalError RangeError ReferenceError SyntaxError TypeError URIError
      InternalError AggregateError SuppressedError Iterator Array parseInt parseFloat isNaN isFinite queueMicrotask
      decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape Infinity NaN undefined eval Number
      Boolean String Math Reflect Symbol DisposableStack globalThis BigInt Date RegExp JSON Proxy Map Set WeakMap
      WeakSet ArrayBuffer SharedArrayBuffer Uint8ClampedArray Int8Array Uint8Array Int16Array Uint16Array Int32Array
      Uint32Array BigInt64Array BigUint64Array Float16Array Float32Array Float64Array DataView Promise
      AsyncDisposableStack WeakRef FinalizationRegistry DOMException btoa atob performance`.split(/\s+/);
    const result = await runtime().executeHandler(
      `const language = new Set($args.language);
       return Object.getOwnPropertyNames(globalThis).filter((name) => !language.has(name)).sort();`,
      context({ args: { language } }),
    );
    expect(successValue(result)).toEqual([
      '$args',
      '$emit',
      '$ext',
      '$log',
      '$scope',
      '$state',
      '$view',
      'console',
      'crypto',
    ]);
  });

  it('survives a tampered Promise across a suspension', async () => {
    const parked = await runtime().executeHandler(
      `const then = Promise.prototype.then;
       Promise.prototype.then = function (a, b) { return then.call(this, a, b) };
       Promise.resolve = () => { throw new Error('tampered') };
       return 'v:' + (await $ext.kv.get('k'));`,
      context(kv),
    );
    const done = await runtime().resumeHandler(suspension(parked).suspensionId, { success: true, value: 1 });
    expect(successValue(done)).toBe('v:1');
  });

  it('resumes normally when the handler broke Promise.prototype.then (await does not use it)', async () => {
    const parked = await runtime().executeHandler(
      `Promise.prototype.then = function () { throw new Error('no then') };
       return await $ext.kv.get('k');`,
      context(kv),
    );
    const done = await runtime().resumeHandler(suspension(parked).suspensionId, { success: true, value: 1 });
    expect(successValue(done)).toBe(1);
  });

  it('starts the next execution with pristine built-ins', async () => {
    await runtime().executeHandler(
      `Object.freeze(Object.prototype); Array.prototype.map = () => 'bad'; JSON.stringify = null;
       globalThis.$view = null; delete globalThis.$state;`,
      context(),
    );
    const result = await runtime().executeHandler(
      'return [[1].map((x) => x + 1), typeof JSON.stringify, typeof $view.focus, typeof $state, Object.isFrozen(Object.prototype)]',
      context(),
    );
    expect(successValue(result)).toEqual([[2], 'function', 'function', 'object', false]);
  });
});

describe('hostile: deep recursion', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 5000 });

  const deep: [string, string][] = [
    ['direct recursion', 'function f(n) { return f(n + 1) + 1 } return f(0)'],
    ['mutual recursion', 'function a(n) { return b(n) + 1 } function b(n) { return a(n) + 1 } return a(0)'],
    ['recursion through getters', 'const o = { get x() { return this.x } }; return o.x'],
    ['recursion through toString', 'const o = { toString() { return "" + o } }; return String(o)'],
    ['deeply nested JSON.parse', "return JSON.parse('['.repeat(1e6) + ']'.repeat(1e6))"],
    [
      'JSON.stringify of a deeply nested value',
      'let v = []; for (let i = 0; i < 1e5; i++) v = [v]; return JSON.stringify(v).length',
    ],
  ];

  it.each(deep)('stops %s with STACK_OVERFLOW', async (_name, code) => {
    const error = failure(await runtime().executeHandler(code, context()));
    expect(error.code).toBe('STACK_OVERFLOW');
  });

  it('stops returning a value nested too deeply with STACK_OVERFLOW', async () => {
    const result = await runtime().executeHandler(
      'let v = []; for (let i = 0; i < 1e5; i++) v = [v]; return v',
      context(),
    );
    expect(failure(result).code).toBe('STACK_OVERFLOW');
  });

  it('refuses deeply nested source code with COMPILATION_ERROR naming the nesting', async () => {
    const result = await runtime().executeHandler(`return ${'('.repeat(1e5)}1${')'.repeat(1e5)}`, context());
    expect(failure(result)).toMatchObject({
      code: 'COMPILATION_ERROR',
      message: expect.stringContaining('nests too deeply'),
    });
  });
});
