// The http extension as a handler meets it, with a real local HTTP server on 127.0.0.1 as the
// would-be victim: an allowed name that resolves to a loopback address is refused (`localhost`
// through the system resolver), listing the address allows it on purpose, and credentials do
// not follow a redirect to another origin.

import request from 'supertest';
import { type HttpTarget, json, startHttpTarget } from '../testing/http-target.js';
import { startTestKernel, type TestKernel } from '../testing/kernel-harness.js';

const prober = {
  title: 'Prober',
  state: {},
  extensions: ['http'],
  tools: {
    probe: {
      capabilities: ['ext:http'],
      handler: `try {
  const response = await $ext.http.get($args.url, { headers: { Authorization: 'Bearer handler-secret', Cookie: 'a=b' } });
  return { reached: true, body: response.body };
} catch (e) {
  return { reached: false, error: e.message };
}`,
    },
  },
};

describe('the http extension against a local victim', () => {
  let victim: HttpTarget;
  let other: HttpTarget;
  let victimHits = 0;
  const kernels: TestKernel[] = [];

  beforeAll(async () => {
    victim = await startHttpTarget();
    other = await startHttpTarget();
    victim.route('/secret', (request, _body, response) => {
      victimHits += 1;
      json(response, 200, { secret: 'victim data', authorization: request.headers.authorization ?? null });
    });
    victim.route('/elsewhere', (_request, _body, response) =>
      response.writeHead(302, { location: `${other.origin}/headers` }).end(),
    );
    other.route('/headers', (request, _body, response) => json(response, 200, request.headers));
  });
  afterAll(async () => {
    await Promise.all(kernels.map((kernel) => kernel.stop()));
    await victim.close();
    await other.close();
  });

  async function probe(allowedDomains: string, url: string): Promise<Record<string, unknown>> {
    const kernel = await startTestKernel({ HTTP_ALLOWED_DOMAINS: allowedDomains });
    kernels.push(kernel);
    const id = (await request(kernel.url).post('/panels').send(prober).expect(201)).body.id as string;
    const result = await request(kernel.url).post(`/panels/${id}/trigger/probe`).send({ url }).expect(200);
    expect(result.body.status).toBe('success');
    return result.body.returnValue as Record<string, unknown>;
  }

  it('refuses an allowed name that resolves to 127.0.0.1', async () => {
    const hits = victimHits;
    await expect(
      probe(`localhost:${victim.port}`, `http://localhost:${victim.port}/secret`),
    ).resolves.toEqual({
      reached: false,
      error: expect.stringMatching(/^ADDRESS_NOT_ALLOWED: localhost resolves to 127\.0\.0\.1 \(loopback\)/),
    });
    expect(victimHits).toBe(hits);
  });

  it('refuses an address literal that only a name entry would cover', async () => {
    await expect(probe(`localhost:${victim.port}`, `${victim.origin}/secret`)).resolves.toEqual({
      reached: false,
      error: `DOMAIN_NOT_ALLOWED: ${victim.origin} is not in HTTP_ALLOWED_DOMAINS`,
    });
  });

  it('reaches the address when an address or CIDR entry lists it', async () => {
    await expect(
      probe(`localhost:${victim.port}, 127.0.0.1:${victim.port}`, `http://localhost:${victim.port}/secret`),
    ).resolves.toMatchObject({ reached: true, body: { secret: 'victim data' } });
    await expect(
      probe('localhost, 127.0.0.0/8', `http://localhost:${victim.port}/secret`),
    ).resolves.toMatchObject({ reached: true });
  });

  it('drops the handler credentials on a redirect to another origin', async () => {
    const result = await probe(
      `127.0.0.1:${victim.port}, 127.0.0.1:${other.port}`,
      `${victim.origin}/elsewhere`,
    );
    expect(result).toMatchObject({ reached: true, body: { host: `127.0.0.1:${other.port}` } });
    expect(result.body).not.toHaveProperty('authorization');
    expect(result.body).not.toHaveProperty('cookie');
  });
});
