import { SignJWT } from 'jose';
import { bearerToken, createTokenVerifier } from './auth.js';

const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const key = new TextEncoder().encode(secret);

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

  it('accepts a valid HS256 token', async () => {
    await expect(createTokenVerifier({ secret })(await sign())).resolves.toBeUndefined();
  });

  it.each([
    ['missing', () => Promise.resolve(undefined), 'a bearer token is required'],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'malformed'],
    ['expired', () => sign({}, '-1m'), 'expired'],
    [
      'wrongly signed',
      () => sign({}, '1h', new TextEncoder().encode('another-secret-another-secret-xx')),
      'signature',
    ],
  ])('rejects a %s token with UNAUTHORIZED', async (_name, token, reason) => {
    await expect(createTokenVerifier({ secret })(await token())).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
      message: expect.stringContaining(reason),
    });
  });

  it('checks issuer and audience when configured', async () => {
    const verify = createTokenVerifier({ secret, issuer: 'nexus', audience: 'kernel' });
    await expect(verify(await sign({ iss: 'nexus', aud: 'kernel' }))).resolves.toBeUndefined();
    await expect(verify(await sign({ iss: 'other', aud: 'kernel' }))).rejects.toThrow('"iss"');
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
