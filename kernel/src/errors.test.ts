import { readFileSync } from 'node:fs';
import { KernelError, KernelErrors, kernelErrorCodes, retryAfterSeconds } from './errors.js';

describe('error codes', () => {
  it('are mirrored exactly in the kernel section of docs/errors.md', () => {
    const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## Kernel'));
    const end = section.indexOf('\n## ', 3);
    const kernelSection = end === -1 ? section : section.slice(0, end);
    const documented = [...kernelSection.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map(
      (match) => `${match[1]} ${match[2]}`,
    );
    expect(documented).toEqual(kernelErrorCodes.map((code) => `${code} ${KernelErrors[code].status}`));
  });

  it('serialise with their code, message and details', () => {
    const error = new KernelError('INVALID_ARGS', 'bad', [{ path: '/by', message: 'must be number' }]);
    expect(error.status).toBe(400);
    expect(error.toJSON()).toEqual({
      code: 'INVALID_ARGS',
      message: 'bad',
      details: [{ path: '/by', message: 'must be number' }],
    });
    expect(new KernelError('PANEL_NOT_FOUND', 'gone').toJSON()).toEqual({
      code: 'PANEL_NOT_FOUND',
      message: 'gone',
    });
  });

  it('give a retry hint with every busy answer (429, 503) and none with the others', () => {
    for (const code of kernelErrorCodes) {
      const hint = retryAfterSeconds(new KernelError(code, 'x'));
      const busy = KernelErrors[code].status === 429 || KernelErrors[code].status === 503;
      expect([code, hint !== undefined && hint > 0]).toEqual([code, busy]);
    }
  });
});
