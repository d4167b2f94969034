import { Writable } from 'node:stream';
import { createLogger } from './log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes the kernel’s format: level labels and ISO times', () => {
    const { stream, lines } = capture();
    const log = createLogger('info', stream);
    log.child({ runtime: 'ns/demo' }).warn({ reason: 'X' }, 'something');
    log.debug('not written at info');
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'warn',
      component: 'nexus-operator',
      runtime: 'ns/demo',
      reason: 'X',
      msg: 'something',
    });
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
