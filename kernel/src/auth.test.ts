import { SignJWT } from 'jose';
import { type AuthSettings, LOGS_SCOPE, bearerToken, createTokenVerifier, requireScope } from './auth.js';

const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const key = new TextEncoder().encode(secret);
const settings: AuthSettings = { secret, maxAgeSeconds: 3600, clockSkewSeconds: 60 };
const now = () => Math.floor(Date.now() / 1000);

/** Signs `claims` as they are: numeric dates in seconds, nothing added. */
function signRaw(claims: Record<string, unknown>, signingKey = key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(signingKey);
}

function sign(claims: Record<string, unknown> = {}, expiresIn = '1h', signingKey = key): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(signingKey);
}

describe('createTokenVerifier', () => {
  it('accepts everything when auth is off', async () => {
    await expect(createTokenVerifier(undefined)(undefined)).resolves.toBeUndefined();
  });

  it('accepts a valid HS256 token, telling from when it is refused: its exp plus the clock skew', async () => {
    await expect(createTokenVerifier(settings)(await sign())).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
    const exp = now() + 600;
    await expect(createTokenVerifier(settings)(await signRaw({ iat: now(), exp }))).resolves.toMatchObject({
      expiresAt: (exp + settings.clockSkewSeconds) * 1000,
    });
  });

  it.each([
    ['missing', () => Promise.resolve(undefined), 'a bearer token is required'],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'malformed'],
    ['expired', () => sign({}, '-2m'), 'the token has expired'],
    [
      'wrongly signed',
      () => sign({}, '1h', new TextEncoder().encode('another-secret-another-secret-xx')),
      'signature',
    ],
    ['never-expiring', () => signRaw({ iat: now() }), 'the token has no "exp" claim (tokens must expire)'],
    [
      'too old',
      () => signRaw({ iat: now() - 3600 - 120, exp: now() + 600 }),
      'more than JWT_MAX_AGE_SECONDS (3600 s)',
    ],
    [
      'future-issued',
      () => signRaw({ iat: now() + 3600, exp: now() + 7200 }),
      `s in the future (more than the 60 s JWT_CLOCK_SKEW_SECONDS allows)`,
    ],
    [
      'iat-less long-lived',
      () => signRaw({ exp: now() + 10 * 365 * 86_400 }),
      'the token has no "iat" and its "exp" is',
    ],
    ['not-yet-valid', () => signRaw({ nbf: now() + 600, exp: now() + 1200 }), 'not valid yet'],
    ['badly dated', () => signRaw({ iat: 'yesterday', exp: now() + 60 }), 'the token claim "iat" is invalid'],
  ])('rejects a %s token with UNAUTHORIZED saying why', async (_name, token, reason) => {
    await expect(createTokenVerifier(settings)(await token())).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
      message: expect.stringContaining(reason),
    });
  });

  it('allows the clock skew on iat, exp and the age', async () => {
    const verify = createTokenVerifier(settings);
    await expect(verify(await signRaw({ iat: now() + 30, exp: now() + 600 }))).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
    await expect(verify(await signRaw({ iat: now() - 600, exp: now() - 30 }))).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
    await expect(verify(await signRaw({ iat: now() - 3600 - 30, exp: now() + 60 }))).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
  });

  it('judges a token without iat by how far away its exp is', async () => {
    const verify = createTokenVerifier(settings);
    await expect(verify(await signRaw({ exp: now() + 3000 }))).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
    await expect(verify(await signRaw({ exp: now() + 3600 + 120 }))).rejects.toThrow('no "iat"');
  });

  it('ages tokens with the clock it is given', async () => {
    let clock = Date.now();
    const verify = createTokenVerifier({ ...settings, maxAgeSeconds: 86_400 }, () => clock);
    const token = await signRaw({ iat: now(), exp: now() + 7 * 86_400 });
    await expect(verify(token)).resolves.toMatchObject({ expiresAt: expect.any(Number) });
    clock += 2 * 86_400 * 1000;
    await expect(verify(token)).rejects.toThrow('more than JWT_MAX_AGE_SECONDS (86400 s)');
  });

  it('checks issuer and audience when configured', async () => {
    const verify = createTokenVerifier({ ...settings, issuer: 'nexus', audience: 'kernel' });
    await expect(verify(await sign({ iss: 'nexus', aud: 'kernel' }))).resolves.toMatchObject({
      expiresAt: expect.any(Number),
    });
    await expect(verify(await sign({ iss: 'other', aud: 'kernel' }))).rejects.toThrow('"iss"');
  });
});

describe('token scopes', () => {
  it('reads the scope claim as space-separated names or an array, none when absent', async () => {
    const verify = createTokenVerifier(settings);
    const scopes = async (claims: Record<string, unknown>) => [
      ...((await verify(await signRaw({ iat: now(), exp: now() + 600, ...claims })))?.scopes ?? []),
    ];
    await expect(scopes({ scope: 'panels:read  panels:logs' })).resolves.toEqual([
      'panels:read',
      'panels:logs',
    ]);
    await expect(scopes({ scope: ['panels:logs', 7] })).resolves.toEqual(['panels:logs']);
    await expect(scopes({})).resolves.toEqual([]);
  });

  it('refuses with FORBIDDEN a token without the scope, and lets anything through with auth off', () => {
    expect(() => requireScope(undefined, LOGS_SCOPE, 'reading logs')).not.toThrow();
    expect(() =>
      requireScope({ expiresAt: 0, scopes: new Set([LOGS_SCOPE]) }, LOGS_SCOPE, 'reading logs'),
    ).not.toThrow();
    let refused: unknown;
    try {
      requireScope({ expiresAt: 0, scopes: new Set(['other']) }, LOGS_SCOPE, 'reading logs');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('"panels:logs"') });
  });
});

describe('bearerToken', () => {
  it('extracts the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   xyz')).toBe('xyz');
    expect(bearerToken('Basic dXNlcg==')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
