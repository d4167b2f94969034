// JWT bearer authentication (HS256 via jose), shared by the HTTP API and the WebSocket upgrade.

import { errors, jwtVerify } from 'jose';
import { KernelError } from './errors.js';

export interface AuthSettings {
  readonly secret: string;
  readonly issuer?: string;
  readonly audience?: string;
}

export type TokenVerifier = (token: string | undefined) => Promise<void>;

/** Returns a verifier that resolves for a valid token and throws KernelError UNAUTHORIZED otherwise. */
export function createTokenVerifier(settings: AuthSettings | undefined): TokenVerifier {
  if (settings === undefined) return () => Promise.resolve();
  const key = new TextEncoder().encode(settings.secret);
  return async (token) => {
    if (token === undefined || token === '') {
      throw new KernelError('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <JWT>)');
    }
    try {
      await jwtVerify(token, key, {
        algorithms: ['HS256'],
        ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
        ...(settings.audience === undefined ? {} : { audience: settings.audience }),
      });
    } catch (error) {
      const reason =
        error instanceof errors.JWTExpired
          ? 'the token has expired'
          : error instanceof errors.JWSSignatureVerificationFailed
            ? 'the token signature is invalid'
            : error instanceof errors.JWTClaimValidationFailed
              ? `the token claim "${error.claim}" is invalid`
              : 'the token is malformed or not HS256';
      throw new KernelError('UNAUTHORIZED', reason);
    }
  };
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
