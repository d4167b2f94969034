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

  const describe = (value) => {
    if (typeof value === 'string') return value;
    try {
      const json = stringify(value);
      if (json !== undefined) return json;
    } catch {
      // cycles, BigInt: fall back to String()
    }
    try {
      return toText(value);
    } catch {
      return '[unprintable]';
    }
  };
  const format = (args) => {
    let text = '';
    for (let i = 0; i < args.length; i++) text += (i ? ' ' : '') + describe(args[i]);
    return text;
  };
  const $log = (...args) => log(1, format(args));
  $log.debug = (...args) => log(0, format(args));
  $log.info = $log;
  $log.warn = (...args) => log(2, format(args));
  $log.error = (...args) => log(3, format(args));
  freeze($log);

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
