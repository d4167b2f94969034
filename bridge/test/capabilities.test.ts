import { context, failure, successValue, suspension, useRuntime, events, viewCommands } from './support.js';

describe('capabilities', () => {
  const runtime = useRuntime({ maxInstances: 2 });

  describe('$emit', () => {
    it('records events with their payloads when events:emit grants the name', async () => {
      const result = await runtime().executeHandler(
        '$emit("saved", { id: 7 }); $emit("saved"); return "ok"',
        context({ capabilities: ['events:emit:saved'] }),
      );
      expect(successValue(result)).toBe('ok');
      expect(events(result)).toEqual([{ name: 'saved', payload: { id: 7 } }, { name: 'saved' }]);
    });

    it('accepts any name under events:emit:*', async () => {
      const result = await runtime().executeHandler(
        '$emit("a", 1); $emit("b", 2)',
        context({ capabilities: ['events:emit:*'] }),
      );
      expect(events(result)).toEqual([
        { name: 'a', payload: 1 },
        { name: 'b', payload: 2 },
      ]);
    });

    it('denies an event name that is not granted and keeps the earlier events', async () => {
      const result = await runtime().executeHandler(
        '$emit("saved", 1); $emit("deleted", 2)',
        context({ capabilities: ['events:emit:saved'] }),
      );
      const error = failure(result);
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toContain('events:emit:deleted');
      expect(events(result)).toEqual([{ name: 'saved', payload: 1 }]);
    });
  });

  describe('$view', () => {
    it('records view commands for granted components', async () => {
      const result = await runtime().executeHandler(
        `$view.setFilter('table', { status: 'open' });
         $view.scrollTo('table', 40);
         $view.focus('search');
         $view.custom('highlight', 'chart', { series: 2 });`,
        context({ capabilities: ['view:update:*'] }),
      );
      expect(result.status).toBe('success');
      expect(viewCommands(result)).toEqual([
        { type: 'setFilter', componentId: 'table', args: { status: 'open' } },
        { type: 'scrollTo', componentId: 'table', args: 40 },
        { type: 'focus', componentId: 'search' },
        // custom commands carry their own type
        { type: 'highlight', componentId: 'chart', args: { series: 2 } },
      ]);
    });

    it('needs view:update:* for a custom command without a component', async () => {
      const denied = failure(
        await runtime().executeHandler(
          "$view.custom('refresh')",
          context({ capabilities: ['view:update:table'] }),
        ),
      );
      expect(denied.code).toBe('PERMISSION_DENIED');
      expect(denied.message).toContain('view:update:*');

      const allowed = await runtime().executeHandler(
        "$view.custom('refresh')",
        context({ capabilities: ['view:update:*'] }),
      );
      expect(viewCommands(allowed)).toEqual([{ type: 'refresh' }]);
    });

    it('denies a component that is not granted, naming the token', async () => {
      const error = failure(
        await runtime().executeHandler(
          "$view.focus('admin-panel')",
          context({ capabilities: ['view:update:table'] }),
        ),
      );
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toContain('view:update:admin-panel');
    });
  });

  describe('$log', () => {
    it('logs at every level without a capability and without touching the result', async () => {
      const result = await runtime().executeHandler(
        '$log("info", { a: 1 }); $log.debug("d"); $log.warn("w"); $log.error("e"); return "logged"',
        context(),
      );
      expect(successValue(result)).toBe('logged');
      expect(events(result)).toEqual([]);
      expect(viewCommands(result)).toEqual([]);
    });
  });

  describe('$ext', () => {
    const registry = { http: ['get', 'post'], kv: ['get'] };

    it('suspends on a granted, registered method', async () => {
      const result = await runtime().executeHandler(
        'return await $ext.http.get("https://example.com", { retries: 1 })',
        context({ capabilities: ['ext:http'], extensionRegistry: registry }),
      );
      const parked = suspension(result);
      expect(JSON.parse(parked.argsJson)).toEqual(['https://example.com', { retries: 1 }]);
      expect(parked).toMatchObject({
        extensionName: 'http',
        method: 'get',
      });
      expect(parked.suspensionId).toEqual(expect.any(String));
      await runtime().resumeHandler(parked.suspensionId, { success: true, value: null });
    });

    it('grants every extension under ext:*', async () => {
      const result = await runtime().executeHandler(
        'return await $ext.kv.get("k")',
        context({ capabilities: ['ext:*'], extensionRegistry: registry }),
      );
      const parked = suspension(result);
      expect(parked.extensionName).toBe('kv');
      const done = await runtime().resumeHandler(parked.suspensionId, { success: true, value: 'v' });
      expect(successValue(done)).toBe('v');
    });

    it('denies an extension whose token is missing', async () => {
      const error = failure(
        await runtime().executeHandler(
          'return await $ext.kv.get("k")',
          context({ capabilities: ['ext:http'], extensionRegistry: registry }),
        ),
      );
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toContain('ext:kv');
    });

    it('offers only the registered methods', async () => {
      const result = await runtime().executeHandler(
        'return [typeof $ext.http.get, typeof $ext.http.delete, typeof $ext.mail]',
        context({ capabilities: ['ext:*'], extensionRegistry: registry }),
      );
      expect(successValue(result)).toEqual(['function', 'undefined', 'undefined']);
    });

    it('fails cleanly when the handler calls a method that is not registered', async () => {
      const result = await runtime().executeHandler(
        'return await $ext.http.delete("https://example.com")',
        context({ capabilities: ['ext:*'], extensionRegistry: registry }),
      );
      expect(failure(result).code).toBe('EXECUTION_ERROR');
      expect(result.suspension).toBeUndefined();
    });
  });

  it('lets the handler catch the TypeError of an unregistered method', async () => {
    const result = await runtime().executeHandler(
      'try { await $ext.http.delete("u") } catch (e) { return e instanceof TypeError }',
      context({ capabilities: ['ext:*'], extensionRegistry: { http: ['get'] } }),
    );
    expect(successValue(result)).toBe(true);
  });

  it('grants nothing by default', async () => {
    const attempts = [
      'return $state.x',
      '$state.x = 1',
      '$emit("e")',
      '$view.focus("c")',
      'return await $ext.http.get("u")',
    ];
    for (const code of attempts) {
      const result = await runtime().executeHandler(
        code,
        context({ stateSnapshot: { x: 1 }, extensionRegistry: { http: ['get'] } }),
      );
      expect({ code, error: failure(result).code }).toEqual({ code, error: 'PERMISSION_DENIED' });
    }
  });
});
