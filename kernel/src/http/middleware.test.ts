import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import { requireJsonBody } from './middleware.js';

/** Sends `head` (request line and headers, no body) as written and returns the status code. */
async function rawStatus(port: number, head: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  socket.end(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1]);
}

describe('requireJsonBody', () => {
  const app = express();
  app.use(requireJsonBody());
  app.use((_request, response) => {
    response.status(204).end();
  });
  const server = app.listen(0, '127.0.0.1');
  const port = () => (server.address() as AddressInfo).port;
  beforeAll(() => once(server, 'listening'));
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('admits a write that says it carries JSON but sends no body (no Content-Length either)', async () => {
    expect(await rawStatus(port(), 'POST /run HTTP/1.1\r\nContent-Type: application/json')).toBe(204);
    expect(
      await rawStatus(
        port(),
        'POST /run HTTP/1.1\r\nContent-Type: application/merge-patch+json; charset=utf-8',
      ),
    ).toBe(204);
    expect(
      await rawStatus(port(), 'POST /run HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 0'),
    ).toBe(204);
  });

  it('refuses a write without a JSON Content-Type, with or without a body', async () => {
    expect(await rawStatus(port(), 'POST /run HTTP/1.1')).toBe(415);
    expect(await rawStatus(port(), 'POST /run HTTP/1.1\r\nContent-Type: text/plain')).toBe(415);
    expect(await rawStatus(port(), 'POST /run HTTP/1.1\r\nContent-Type: application/jsonx')).toBe(415);
    expect(
      await rawStatus(port(), 'PUT /run HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded'),
    ).toBe(415);
    expect(await rawStatus(port(), 'GET /run HTTP/1.1')).toBe(204);
  });
});
