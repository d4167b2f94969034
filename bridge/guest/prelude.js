// Builds the globals a handler sees. Runs once, when the guest is pre-initialised, with the
// native functions of natives.c; it returns `begin`, which installs the per-execution globals.
// Everything captured here is captured before any handler code runs, so a handler that replaces
// Object, JSON or a prototype method cannot change how these globals behave.
(function (native) {
  'use strict';
  const { stateGet, stateSet, stateDelete, stateKeys, emit, view, log, extCall, randomFill } = native;
  const { create, defineProperty, freeze, keys } = Object;
  const isArray = Array.isArray;
  const stringify = JSON.stringify;
  const toText = String;
  const global = globalThis;

  const constant = (name, value) =>
    defineProperty(global, name, { value, writable: false, enumerable: false, configurable: false });

  // $state: reads and writes go to the host, which checks state:read / state:write per key.
  const $state = new Proxy(create(null), {
    __proto__: null,
    get: (_, key) => (typeof key === 'string' ? stateGet(key) : undefined),
    set: (_, key, value) => {
      if (typeof key !== 'string') return false;
      stateSet(key, value);
      return true;
    },
    deleteProperty: (_, key) => {
      if (typeof key === 'string') stateDelete(key);
      return true;
    },
    has: (_, key) => typeof key === 'string' && stateGet(key) !== undefined,
    ownKeys: () => stateKeys(),
    getOwnPropertyDescriptor: (_, key) => {
      if (typeof key !== 'string') return undefined;
      const value = stateGet(key);
      if (value === undefined) return undefined;
      return { value, writable: true, enumerable: true, configurable: true };
    },
    defineProperty: (_, key, descriptor) => {
      if (typeof key !== 'string' || !('value' in descriptor)) return false;
      stateSet(key, descriptor.value);
      return true;
    },
    getPrototypeOf: () => null,
    setPrototypeOf: () => false,
    preventExtensions: () => false,
    isExtensible: () => true,
  });

  const $emit = (name, payload) => emit(name, payload);

  const $view = freeze({
    __proto__: null,
    setFilter: (componentId, filter) => view('setFilter', componentId, filter),
    scrollTo: (componentId, target) => view('scrollTo', componentId, target),
    focus: (componentId) => view('focus', componentId, undefined),
    custom: (type, componentId, args) => view(type, componentId, args),
  });

  // Log lines are formatted the way Node's util.format formats them: a first string argument may
  // hold %s %d %i %f %j %o %O %c %% substitutions; other arguments follow, separated by spaces,
  // strings bare and everything else in a compact, one-line form of util.inspect.
  const { getPrototypeOf } = Object;
  const objectProto = Object.prototype;
  const apply = Reflect.apply;
  const toISO = Date.prototype.toISOString;
  const mapForEach = Map.prototype.forEach;
  const setForEach = Set.prototype.forEach;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;
  const fnToString = Function.prototype.toString;
  const toTag = objectProto.toString;
  const isNaNValue = Number.isNaN;
  const toNumber = Number;
  const toInt = parseInt;
  const toFloat = parseFloat;
  const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const test = RegExp.prototype.test;
  const replace = String.prototype.replace;
  const slice = String.prototype.slice;
  const MAX_DEPTH = 2;
  const MAX_ITEMS = 100;
  const SPECS = freeze({ __proto__: null, s: true, d: true, i: true, f: true, j: true, o: true, O: true, c: true });
  // Appends without the array's prototype (a handler may have put setters on it).
  const put = (array, value) =>
    defineProperty(array, array.length, { value, writable: true, enumerable: true, configurable: true });

  const guard = (f, fallback) => {
    try {
      return f();
    } catch {
      return fallback;
    }
  };
  const tag = (value) => guard(() => apply(toTag, value, []), '[object Object]');
  const number = (n) => (n === 0 && 1 / n < 0 ? '-0' : toText(n));
  const quote = (text) => "'" + apply(replace, text, [/[\\']/g, '\\$&']) + "'";
  const key = (name) => (typeof name === 'symbol' ? '[' + toText(name) + ']' : apply(test, identifier, [name]) ? name : quote(name));
  const constructorName = (value) =>
    guard(() => {
      const proto = getPrototypeOf(value);
      if (proto === null) return null;
      const ctor = proto.constructor;
      return typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : '';
    }, '');
  const list = (open, items, more, close) => {
    if (more > 0) put(items, '... ' + more + ' more item' + (more > 1 ? 's' : ''));
    if (items.length === 0) return open + close;
    let text = open + ' ';
    for (let i = 0; i < items.length; i++) text += (i ? ', ' : '') + items[i];
    return text + ' ' + close;
  };

  // util.inspect, one line, depth 2, 100 items per array, object, map or set.
  const inspect = (value, depth, seen) => {
    switch (typeof value) {
      case 'string':
        return depth === 0 ? value : quote(value);
      case 'number':
        return number(value);
      case 'bigint':
        return toText(value) + 'n';
      case 'symbol':
        return toText(value);
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'function': {
        const source = guard(() => apply(fnToString, value, []), '');
        const name = guard(() => value.name, '');
        if (apply(slice, source, [0, 6]) === 'class ') return '[class ' + (name || '(anonymous)') + ']';
        return name ? '[Function: ' + name + ']' : '[Function (anonymous)]';
      }
    }
    if (value === null) return 'null';
    for (let up = seen; up !== null; up = up.up) if (up.value === value) return '[Circular]';
    const kind = tag(value);
    if (kind === '[object Error]') {
      const stack = guard(() => value.stack, undefined);
      const head = guard(() => toText(value), '[Error]');
      return typeof stack === 'string' && stack ? head + '\n' + apply(replace, stack, [/\n$/, '']) : head;
    }
    if (kind === '[object Date]') return guard(() => apply(toISO, value, []), 'Invalid Date');
    if (kind === '[object RegExp]') return guard(() => toText(value), '[RegExp]');
    const nested = depth + 1;
    const inner = { __proto__: null, value, up: seen };
    if (isArray(value)) {
      if (depth > MAX_DEPTH) return '[Array]';
      const items = [];
      const count = value.length;
      const shown = count < MAX_ITEMS ? count : MAX_ITEMS;
      for (let i = 0; i < shown; i++) put(items, inspect(value[i], nested, inner));
      return list('[', items, count - shown, ']');
    }
    if (kind === '[object Map]' || kind === '[object Set]') {
      const isMap = kind === '[object Map]';
      const size = guard(() => apply(isMap ? mapSize : setSize, value, []), 0);
      const head = (isMap ? 'Map(' : 'Set(') + size + ') ';
      if (depth > MAX_DEPTH) return '[' + (isMap ? 'Map' : 'Set') + ']';
      const items = [];
      guard(() =>
        apply(isMap ? mapForEach : setForEach, value, [
          (v, k) => {
            if (items.length < MAX_ITEMS)
              put(items, isMap ? inspect(k, nested, inner) + ' => ' + inspect(v, nested, inner) : inspect(v, nested, inner));
          },
        ]),
      );
      return head + list('{', items, size - items.length, '}');
    }
    const name = constructorName(value);
    const prefix = name === null ? '[Object: null prototype] ' : name && name !== 'Object' ? name + ' ' : '';
    if (depth > MAX_DEPTH) return '[' + (name || 'Object') + ']';
    const names = guard(() => keys(value), []);
    const items = [];
    const shown = names.length < MAX_ITEMS ? names.length : MAX_ITEMS;
    for (let i = 0; i < shown; i++) {
      const item = guard(() => inspect(value[names[i]], nested, inner), '[unprintable]');
      put(items, key(names[i]) + ': ' + item);
    }
    return prefix + list('{', items, names.length - shown, '}');
  };
  const describe = (value) => guard(() => inspect(value, 0, null), '[unprintable]');
  const json = (value) => {
    try {
      const text = stringify(value);
      return text === undefined ? 'undefined' : text;
    } catch {
      return '[Circular]';
    }
  };
  const substitute = (spec, value) => {
    switch (spec) {
      case 's':
        if (typeof value === 'object' && value !== null) return describe(value);
        if (typeof value === 'number') return number(value);
        if (typeof value === 'bigint') return toText(value) + 'n';
        return guard(() => toText(value), '[unprintable]');
      case 'd':
      case 'i':
      case 'f': {
        if (typeof value === 'bigint') return toText(value) + 'n';
        if (typeof value === 'symbol' || (typeof value === 'object' && value !== null)) return 'NaN';
        const n = spec === 'd' ? toNumber(value) : spec === 'i' ? toInt(value) : toFloat(value);
        return isNaNValue(n) ? 'NaN' : number(n);
      }
      case 'j':
        return json(value);
      default:
        return typeof value === 'string' ? quote(value) : describe(value);
    }
  };
  const format = (args) => {
    let text = '';
    let next = 0;
    const first = args[0];
    if (typeof first === 'string' && args.length > 1) {
      next = 1;
      let i = 0;
      while (i < first.length) {
        const c = first[i];
        const spec = first[i + 1];
        if (c === '%' && spec === '%') {
          text += '%';
          i += 2;
        } else if (c === '%' && SPECS[spec] === true && next < args.length) {
          if (spec !== 'c') text += substitute(spec, args[next]);
          next += 1;
          i += 2;
        } else {
          text += c;
          i += 1;
        }
      }
      for (; next < args.length; next++) text += ' ' + describe(args[next]);
      return text;
    }
    for (let i = 0; i < args.length; i++) text += (i ? ' ' : '') + describe(args[i]);
    return text;
  };
  const line = (level) => (...args) => log(level, format(args));
  const $log = line(1);
  $log.debug = line(0);
  $log.info = $log;
  $log.warn = line(2);
  $log.error = line(3);
  freeze($log);

  // console: the same lines as $log, at the same levels (console.log is info, like Node's).
  const console = freeze({
    __proto__: null,
    log: line(1),
    info: line(1),
    debug: line(0),
    warn: line(2),
    error: line(3),
  });

  // crypto: getRandomValues from the host's CSPRNG (at most 65536 bytes a call) and randomUUID.
  const Uint8 = Uint8Array;
  const HEX = '0123456789abcdef';
  const hex = (byte) => HEX[byte >> 4] + HEX[byte & 15];
  const crypto = freeze({
    __proto__: null,
    getRandomValues: (array) => randomFill(array),
    randomUUID: () => {
      const b = randomFill(new Uint8(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      let text = '';
      for (let i = 0; i < 16; i++) text += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + hex(b[i]);
      return text;
    },
  });

  constant('crypto', crypto);
  constant('$state', $state);
  constant('$emit', $emit);
  constant('$view', $view);
  constant('$log', $log);
  constant('console', console);

  // $ext.<name>.<method>(...args): one frozen object per registered extension.
  const buildExt = (registry) => {
    const ext = create(null);
    if (registry && typeof registry === 'object') {
      for (const name of keys(registry)) {
        const methods = create(null);
        const list = registry[name];
        if (isArray(list)) {
          for (const method of list) {
            if (typeof method === 'string') methods[method] = (...args) => extCall(name, method, args);
          }
        }
        ext[name] = freeze(methods);
      }
    }
    return freeze(ext);
  };

  return (args, scope, registry) => {
    constant('$args', args);
    constant('$scope', scope == null ? freeze(create(null)) : scope);
    constant('$ext', buildExt(registry));
  };
});
