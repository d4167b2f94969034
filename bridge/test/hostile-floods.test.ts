import { context, failure, useHostileRuntime, events } from './support.js';

const limits = { maxHostCalls: 200, maxStateMutations: 20, maxEvents: 10 };

describe('hostile: host-call floods', () => {
  const runtime = useHostileRuntime({ maxInstances: 2, timeoutMs: 2000, ...limits });

  it('stops an event flood at maxEvents and reports the events before it', async () => {
    const result = await runtime().executeHandler(
      "for (let i = 0; ; i++) $emit('tick', i);",
      context({ capabilities: ['events:emit:*'] }),
    );
    const error = failure(result);
    expect(error.code).toBe('RESOURCE_LIMIT');
    expect(error.message).toMatch(/event/i);
    expect(result.events).toHaveLength(limits.maxEvents);
    expect(events(result)[0]).toEqual({ name: 'tick', payload: 0 });
  });

  it('stops a mutation flood at maxStateMutations', async () => {
    const result = await runtime().executeHandler(
      "for (let i = 0; ; i++) $state['k' + i] = i;",
      context({ capabilities: ['state:write:*'] }),
    );
    const error = failure(result);
    expect(error.code).toBe('RESOURCE_LIMIT');
    expect(error.message).toMatch(/mutation/i);
    expect(result.stateMutations).toHaveLength(limits.maxStateMutations);
  });

  it('stops a log flood at maxHostCalls', async () => {
    const error = failure(await runtime().executeHandler("for (;;) $log('spam');", context()));
    expect(error.code).toBe('RESOURCE_LIMIT');
    expect(error.message).toMatch(/host call/i);
  });

  it('stops a view-command flood at maxEvents, which view commands share with events', async () => {
    const result = await runtime().executeHandler(
      "for (;;) $view.focus('c');",
      context({ capabilities: ['view:update:*'] }),
    );
    expect(failure(result).code).toBe('RESOURCE_LIMIT');
    expect(result.viewCommands).toHaveLength(limits.maxEvents);
  });

  it('ends the handler at the first denied call, even inside try/catch', async () => {
    const result = await runtime().executeHandler(
      "let denied = 0; for (;;) { try { $emit('nope') } catch (e) { denied++ } }",
      context(),
    );
    expect(failure(result).code).toBe('PERMISSION_DENIED');
    expect(result.metrics.hostCalls).toBe(1);
  });

  it('stops a flood of extension calls that are never awaited', async () => {
    const result = await runtime().executeHandler(
      "const pending = []; for (;;) pending.push($ext.kv.get('k'));",
      context({ capabilities: ['ext:kv'], extensionRegistry: { kv: ['get'] } }),
    );
    expect(failure(result).code).toBe('RESOURCE_LIMIT');
  });

  it('counts host calls in the metrics', async () => {
    const result = await runtime().executeHandler(
      "$log('a'); $log('b'); $emit('e');",
      context({ capabilities: ['events:emit:*'] }),
    );
    expect(result.status).toBe('success');
    expect(result.metrics.hostCalls).toBeGreaterThanOrEqual(3);
  });
});
