import { context, failure, successValue, useRuntime, mutations } from './support.js';

describe('$state', () => {
  const runtime = useRuntime({ maxInstances: 2 });
  const readWriteAll = ['state:read:*', 'state:write:*'];

  it('reads the snapshot', async () => {
    const result = await runtime().executeHandler(
      'return [$state.count, $state.todos, typeof $state.missing]',
      context({ stateSnapshot: { count: 3, todos: [{ id: 1 }] }, capabilities: ['state:read:*'] }),
    );
    expect(successValue(result)).toEqual([3, [{ id: 1 }], 'undefined']);
    expect(mutations(result)).toEqual([]);
  });

  it('records writes as set mutations, in order, and shows them to later reads', async () => {
    const result = await runtime().executeHandler(
      '$state.count = $state.count + 1; $state.label = "two"; $state.count = $state.count * 10; return $state.count',
      context({ stateSnapshot: { count: 1 }, capabilities: readWriteAll }),
    );
    expect(successValue(result)).toBe(20);
    expect(mutations(result)).toEqual([
      { key: 'count', value: 2, operation: 'set' },
      { key: 'label', value: 'two', operation: 'set' },
      { key: 'count', value: 20, operation: 'set' },
    ]);
  });

  it('records delete as a delete mutation and hides the key from later reads', async () => {
    const result = await runtime().executeHandler(
      'delete $state.draft; return [typeof $state.draft, "draft" in $state, Object.keys($state)]',
      context({ stateSnapshot: { draft: 'x', keep: 1 }, capabilities: readWriteAll }),
    );
    expect(successValue(result)).toEqual(['undefined', false, ['keep']]);
    expect(mutations(result)).toEqual([{ key: 'draft', operation: 'delete' }]);
  });

  it('stores structured values written to a key', async () => {
    const result = await runtime().executeHandler(
      '$state.todos = [...$state.todos, { id: 2, done: false }]; return $state.todos.length',
      context({ stateSnapshot: { todos: [{ id: 1, done: true }] }, capabilities: readWriteAll }),
    );
    expect(successValue(result)).toBe(2);
    expect(mutations(result)).toEqual([
      {
        key: 'todos',
        value: [
          { id: 1, done: true },
          { id: 2, done: false },
        ],
        operation: 'set',
      },
    ]);
  });

  it('never changes the caller’s snapshot object', async () => {
    const snapshot = { count: 1 };
    await runtime().executeHandler(
      '$state.count = 99',
      context({ stateSnapshot: snapshot, capabilities: readWriteAll }),
    );
    expect(snapshot).toEqual({ count: 1 });
  });

  it('allows a write to exactly the granted key and denies the others', async () => {
    const allowed = await runtime().executeHandler(
      '$state.count = 5',
      context({ stateSnapshot: { count: 0, other: 0 }, capabilities: ['state:write:count'] }),
    );
    expect(allowed.status).toBe('success');
    expect(mutations(allowed)).toEqual([{ key: 'count', value: 5, operation: 'set' }]);

    const denied = failure(
      await runtime().executeHandler(
        '$state.other = 5',
        context({ stateSnapshot: { count: 0, other: 0 }, capabilities: ['state:write:count'] }),
      ),
    );
    expect(denied.code).toBe('PERMISSION_DENIED');
    expect(denied.message).toContain('state:write:other');
  });

  it('denies a read without state:read and names the missing token', async () => {
    const error = failure(
      await runtime().executeHandler(
        'return $state.secret',
        context({ stateSnapshot: { secret: 'x', count: 1 }, capabilities: ['state:read:count'] }),
      ),
    );
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('state:read:secret');
  });

  it('denies a delete without state:write for that key', async () => {
    const error = failure(
      await runtime().executeHandler(
        'delete $state.count',
        context({ stateSnapshot: { count: 1 }, capabilities: ['state:read:*'] }),
      ),
    );
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('state:write:count');
  });

  it('denies reads through reflection as well as property access', async () => {
    const error = failure(
      await runtime().executeHandler(
        'return Reflect.get($state, "secret")',
        context({ stateSnapshot: { secret: 'x' }, capabilities: [] }),
      ),
    );
    expect(error.code).toBe('PERMISSION_DENIED');
  });

  it('reports mutations made before a failure', async () => {
    const result = await runtime().executeHandler(
      '$state.step = 1; throw new Error("later")',
      context({ capabilities: readWriteAll }),
    );
    expect(failure(result).code).toBe('EXECUTION_ERROR');
    expect(mutations(result)).toEqual([{ key: 'step', value: 1, operation: 'set' }]);
  });
});
