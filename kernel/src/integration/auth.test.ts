// JWT auth on: probes stay open, everything else needs a valid HS256 bearer token that expires
// and is not too old; no log line ever carries the token of a `?token=` query.

import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import request from 'supertest';
import { loadConfig } from '../config.js';
import { type Kernel, startKernel } from '../kernel.js';
import { createLogger } from '../logger.js';
import { createBridgeSandbox } from '../sandbox/bridge.js';
import {
  counterPanel,
  makeDataDir,
  startTestKernel,
  type TestKernel,
  TestSocket,
} from '../testing/kernel-harness.js';

const secret = 'kernel-test-secret-with-enough-bytes!';

function token(expiresIn = '5m', key = secret): Promise<string> {
  return new SignJWT({ sub: 'tester' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(key));
}

/** A token with exactly these claims (numeric dates in seconds). */
function rawToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ sub: 'tester', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

const now = () => Math.floor(Date.now() / 1000);

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

  it.each([
    ['without exp', () => rawToken({ iat: now() }), 'the token has no "exp" claim'],
    [
      'issued more than JWT_MAX_AGE_SECONDS ago',
      () => rawToken({ iat: now() - 2 * 86_400, exp: now() + 3600 }),
      'more than JWT_MAX_AGE_SECONDS (86400 s)',
    ],
    [
      'issued in the future',
      () => rawToken({ iat: now() + 365 * 86_400, exp: now() + 366 * 86_400 }),
      `the token's "iat" is`,
    ],
    [
      'without iat, expiring in a year',
      () => rawToken({ exp: now() + 365 * 86_400 }),
      'the token has no "iat"',
    ],
  ])('answers 401 to a token %s, over HTTP and on the WebSocket upgrade', async (_name, make, reason) => {
    const refused = await make();
    const response = await request(kernel.url)
      .get('/panels')
      .set('Authorization', `Bearer ${refused}`)
      .expect(401);
    expect(response.body.error).toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringContaining(reason),
    });
    await expect(TestSocket.open(`${kernel.wsUrl}/panels/any/ws?token=${refused}`)).rejects.toThrow('401');
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
    const document = await request(kernel.url).get('/openapi.json').set('Authorization', bearer).expect(200);
    // The document says what this kernel does: a bearer token on every route but the probes.
    expect(document.body.security).toEqual([{ bearer: [] }]);
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

  it('closes a WebSocket with 4401 once its token expires (its exp plus JWT_CLOCK_SKEW_SECONDS)', async () => {
    const created = await request(kernel.url)
      .post('/panels')
      .set('Authorization', bearer)
      .send(counterPanel)
      .expect(201);
    // Expired 58 s ago: still accepted within the 60 s skew, refused one to two seconds from now.
    const expiring = await rawToken({ iat: now() - 120, exp: now() - 58 });
    const socket = await TestSocket.open(`${kernel.wsUrl}/panels/${created.body.id}/ws?token=${expiring}`);
    await socket.ofType('CONNECTED');
    const closed = await Promise.race([
      socket.closed,
      new Promise((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000)),
    ]);
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    await request(kernel.url).get('/panels').set('Authorization', `Bearer ${expiring}`).expect(401);
    const metrics = await request(kernel.url).get('/metrics');
    expect(metrics.text).toMatch(/nexus_kernel_ws_dropped_total\{reason="token_expired"\} [1-9]/);
  });
});

describe('the logs of a kernel with auth on', () => {
  let kernel: Kernel;
  let dataDir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const config = loadConfig({
      HOST: '127.0.0.1',
      HTTP_PORT: '0',
      WS_PORT: '0',
      LOG_LEVEL: 'trace',
      // The harness's module cache: compiling the sandbox module again would be slow.
      CACHE_DIR: join(tmpdir(), 'nexus-kernel-test-module-cache'),
      PERSIST_DIR: dataDir,
      MAX_INSTANCES: '2',
      JWT_SECRET: secret,
    });
    kernel = await startKernel({
      config,
      logger: createLogger(config.logLevel, { write: (line: string) => lines.push(line) }),
      createSandbox: createBridgeSandbox,
    });
  });
  afterAll(async () => {
    await kernel.shutdown('test finished');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('never carry a ?token= query, of HTTP requests or of WebSocket upgrades', async () => {
    const http = `http://127.0.0.1:${kernel.httpPort}`;
    const ws = `ws://127.0.0.1:${kernel.wsPort}`;
    const valid = await token();
    const forged = await token('5m', 'some-other-secret-of-enough-length');
    const created = await request(http)
      .post(`/panels?token=${valid}`)
      .set('Authorization', `Bearer ${valid}`)
      .send(counterPanel)
      .expect(201);
    const id = created.body.id as string;
    await request(http)
      .get(`/panels?token=${valid}&page=2`)
      .set('Authorization', `Bearer ${valid}`)
      .expect(200);
    await request(http).get(`/panels/${id}?token=${forged}`).expect(401);
    await request(http).get(`/nowhere?token=${valid}`).set('Authorization', `Bearer ${valid}`).expect(404);
    const socket = await TestSocket.open(`${ws}/panels/${id}/ws?token=${valid}`);
    await socket.ofType('CONNECTED');
    socket.send({ type: 'TRIGGER', tool: 'increment', args: { by: 1 }, requestId: 'r1' });
    await socket.ofType('RESULT');
    socket.close();
    await socket.closed;
    await expect(TestSocket.open(`${ws}/panels/${id}/ws?token=${forged}`)).rejects.toThrow('401');
    await expect(TestSocket.open(`${ws}/elsewhere?token=${valid}`)).rejects.toThrow('404');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const requests = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((r) => r.msg === 'request');
    expect(requests.map((record) => record.path)).toEqual(
      expect.arrayContaining(['/panels', `/panels/${id}`, '/nowhere']),
    );
    for (const line of lines) {
      expect(line).not.toContain(valid);
      expect(line).not.toContain(forged);
      expect(line).not.toContain('token=');
    }
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
