// JWT auth on: probes stay open, everything else needs a valid HS256 bearer token.

import { SignJWT } from 'jose';
import request from 'supertest';
import { counterPanel, startTestKernel, type TestKernel, TestSocket } from '../testing/kernel-harness.js';

const secret = 'kernel-test-secret-with-enough-bytes!';

function token(expiresIn = '5m', key = secret): Promise<string> {
  return new SignJWT({ sub: 'tester' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(key));
}

describe('auth on', () => {
  let kernel: TestKernel;
  let bearer: string;

  beforeAll(async () => {
    kernel = await startTestKernel({ JWT_SECRET: secret });
    bearer = `Bearer ${await token()}`;
  });
  afterAll(async () => {
    await kernel.stop();
  });

  it('leaves /health, /ready and /metrics open', async () => {
    await request(kernel.url).get('/health').expect(200);
    await request(kernel.url).get('/ready').expect(200);
    await request(kernel.url).get('/metrics').expect(200);
  });

  it('answers 401 with a JSON error without a token, with a bad one and with an expired one', async () => {
    const missing = await request(kernel.url).get('/panels').expect(401);
    expect(missing.body.error).toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringContaining('bearer token is required'),
    });
    const garbage = await request(kernel.url)
      .get('/panels')
      .set('Authorization', 'Bearer nonsense')
      .expect(401);
    expect(garbage.body.error.message).toContain('malformed');
    const forged = await request(kernel.url)
      .get('/panels')
      .set('Authorization', `Bearer ${await token('5m', 'some-other-secret-of-enough-length')}`)
      .expect(401);
    expect(forged.body.error.message).toContain('signature');
    const expired = await request(kernel.url)
      .get('/panels')
      .set('Authorization', `Bearer ${await token('-1m')}`)
      .expect(401);
    expect(expired.body.error.message).toContain('expired');
    await request(kernel.url).post('/panels').send(counterPanel).expect(401);
    await request(kernel.url).get('/openapi.json').expect(401);
  });

  it('serves every route with a valid token', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .set('Authorization', bearer)
      .send(counterPanel)
      .expect(201);
    await request(kernel.url)
      .post(`/panels/${created.body.id}/trigger/increment`)
      .set('Authorization', bearer)
      .send({ by: 1 })
      .expect(200);
    await request(kernel.url).get('/openapi.json').set('Authorization', bearer).expect(200);
  });

  it('authenticates the WebSocket upgrade with ?token= or the Authorization header', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .set('Authorization', bearer)
      .send(counterPanel)
      .expect(201);
    const path = `${kernel.wsUrl}/panels/${created.body.id}/ws`;
    await expect(TestSocket.open(path)).rejects.toThrow('upgrade refused with 401');
    await expect(TestSocket.open(`${path}?token=${await token('-1m')}`)).rejects.toThrow('401');
    const byQuery = await TestSocket.open(`${path}?token=${await token()}`);
    await byQuery.ofType('CONNECTED');
    byQuery.close();
    const byHeader = await TestSocket.open(path, { headers: { authorization: bearer } });
    await byHeader.ofType('CONNECTED');
    byHeader.close();
  });
});

describe('auth off', () => {
  it('serves the API without a token', async () => {
    const kernel = await startTestKernel();
    try {
      await request(kernel.url).get('/panels').expect(200);
      await request(kernel.url).get('/openapi.json').expect(200);
    } finally {
      await kernel.stop();
    }
  });
});
