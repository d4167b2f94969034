import { KernelError } from '../errors.js';
import { type Extension, ExtensionHost } from './host.js';

const echo: Extension = {
  name: 'echo',
  methods: ['say', 'fail', 'deny'],
  call(method, args) {
    if (method === 'fail') return Promise.reject(new Error('boom'));
    if (method === 'deny') return Promise.reject(new KernelError('DOMAIN_NOT_ALLOWED', 'nope'));
    return Promise.resolve({ said: args[0] });
  },
};

describe('ExtensionHost', () => {
  const calls: string[] = [];
  const host = new ExtensionHost([echo], (name, method, outcome) =>
    calls.push(`${name}.${method}:${outcome}`),
  );

  it('builds the registry for the extensions a panel lists', () => {
    expect(host.registryFor(['echo', 'missing'])).toEqual({ echo: ['say', 'fail', 'deny'] });
    expect(host.registryFor([])).toEqual({});
  });

  it('returns the value of a successful call', async () => {
    await expect(host.invoke(['echo'], 'echo', 'say', ['hi'])).resolves.toEqual({
      success: true,
      valueJson: '{"said":"hi"}',
    });
  });

  it('turns a value without a JSON form into a failure the handler can catch', async () => {
    const deep: unknown[] = [];
    let inner = deep;
    for (let i = 0; i < 100_000; i++) inner = inner[0] = [];
    const odd = new ExtensionHost([
      {
        name: 'odd',
        methods: ['big', 'deep'],
        call: (method) => Promise.resolve(method === 'big' ? 10n : deep),
      },
    ]);
    for (const method of ['big', 'deep']) {
      await expect(odd.invoke(['odd'], 'odd', method, [])).resolves.toMatchObject({
        success: false,
        error: expect.stringContaining('EXTENSION_FAILED: the result cannot be handed to the handler'),
      });
    }
  });

  it('reports each failure with a code the handler can read', async () => {
    await expect(host.invoke(['echo'], 'nope', 'say', [])).resolves.toEqual({
      success: false,
      error: 'EXTENSION_NOT_FOUND: no extension named "nope" (available: echo)',
    });
    await expect(host.invoke([], 'echo', 'say', [])).resolves.toMatchObject({
      error: expect.stringMatching(/^EXTENSION_NOT_ALLOWED: /),
    });
    await expect(host.invoke(['echo'], 'echo', 'shout', [])).resolves.toMatchObject({
      error: 'EXTENSION_METHOD_NOT_FOUND: echo has no method "shout" (methods: say, fail, deny)',
    });
    await expect(host.invoke(['echo'], 'echo', 'fail', [])).resolves.toEqual({
      success: false,
      error: 'EXTENSION_FAILED: boom',
    });
    await expect(host.invoke(['echo'], 'echo', 'deny', [])).resolves.toEqual({
      success: false,
      error: 'DOMAIN_NOT_ALLOWED: nope',
    });
    expect(calls).toEqual(['echo.say:success', 'echo.fail:EXTENSION_FAILED', 'echo.deny:DOMAIN_NOT_ALLOWED']);
  });
});
