// JWT bearer authentication (HS256 via jose), shared by the HTTP API and the WebSocket upgrade.
// Every token must expire (`exp`) and be younger than the maximum age: judged by `iat` when the
// token has one (which may not lie in the future), else by how far away its `exp` is.

import { type JWTPayload, errors, jwtVerify } from 'jose';
import { KernelError } from './errors.js';

export interface AuthSettings {
  readonly secret: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** JWT_MAX_AGE_SECONDS: the oldest token accepted, and the longest a token without `iat` may live on. */
  readonly maxAgeSeconds: number;
  /** JWT_CLOCK_SKEW_SECONDS: how far the issuer's clock may be off from ours. */
  readonly clockSkewSeconds: number;
}

/** What an accepted token grants. */
export interface TokenGrant {
  /**
   * The instant (ms since the epoch) from which the token is refused: its `exp` plus the clock
   * skew allowed (a WebSocket opened with it is closed then).
   */
  readonly expiresAt: number;
  /** Its `scope` claim: space-separated names (OAuth 2.0), or an array of names. */
  readonly scopes: ReadonlySet<string>;
}

/**
 * Resolves with what an accepted token grants; undefined when auth is off (everything is
 * granted). Throws KernelError UNAUTHORIZED for a token that is refused.
 */
export type TokenVerifier = (token: string | undefined) => Promise<TokenGrant | undefined>;

/**
 * The scope that lets a token read panels' log lines (GET /panels/:id/logs, a WebSocket's
 * `logs` opt-in): handlers log what they handle, secrets included, so a token that may trigger
 * or subscribe does not read them unless its issuer says so.
 */
export const LOGS_SCOPE = 'panels:logs';

/** Throws FORBIDDEN unless auth is off (no grant) or the token grants `scope`. */
export function requireScope(grant: TokenGrant | undefined, scope: string, what: string): void {
  if (grant === undefined || grant.scopes.has(scope)) return;
  throw new KernelError(
    'FORBIDDEN',
    `${what} needs a token whose "scope" claim includes "${scope}"; this token's scopes: ${
      grant.scopes.size === 0 ? 'none' : [...grant.scopes].join(' ')
    }`,
  );
}

function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const claim = payload.scope;
  if (typeof claim === 'string') return new Set(claim.split(/\s+/).filter((name) => name !== ''));
  if (Array.isArray(claim)) return new Set(claim.filter((name): name is string => typeof name === 'string'));
  return new Set();
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired (its "exp" has passed)';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') {
      return 'the token has no "exp" claim (tokens must expire)';
    }
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return 'the token is not valid yet (its "nbf" is in the future)';
    }
    return `the token claim "${error.claim}" is invalid`;
  }
  return 'the token is malformed or not HS256';
}

/** The age rules jose does not apply: returns why the token is refused, or undefined. */
export function ageProblem(
  payload: JWTPayload,
  settings: AuthSettings,
  nowSeconds: number,
): string | undefined {
  const { maxAgeSeconds: maxAge, clockSkewSeconds: skew } = settings;
  if (payload.iat !== undefined) {
    if (payload.iat > nowSeconds + skew) {
      return `the token's "iat" is ${Math.round(payload.iat - nowSeconds)} s in the future (more than the ${skew} s JWT_CLOCK_SKEW_SECONDS allows)`;
    }
    if (nowSeconds - payload.iat > maxAge + skew) {
      return `the token was issued ${Math.round(nowSeconds - payload.iat)} s ago, more than JWT_MAX_AGE_SECONDS (${maxAge} s)`;
    }
    return undefined;
  }
  // jose has checked that exp is a number by now.
  const remaining = (payload.exp ?? 0) - nowSeconds;
  if (remaining > maxAge + skew) {
    return `the token has no "iat" and its "exp" is ${Math.round(remaining)} s away, more than JWT_MAX_AGE_SECONDS (${maxAge} s)`;
  }
  return undefined;
}

/** Returns a verifier that resolves for a valid token (TokenVerifier) and throws otherwise. */
export function createTokenVerifier(
  settings: AuthSettings | undefined,
  now: () => number = Date.now,
): TokenVerifier {
  if (settings === undefined) return () => Promise.resolve(undefined);
  const key = new TextEncoder().encode(settings.secret);
  return async (token) => {
    if (token === undefined || token === '') {
      throw new KernelError('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <JWT>)');
    }
    const currentDate = new Date(now());
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        clockTolerance: settings.clockSkewSeconds,
        currentDate,
        ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
        ...(settings.audience === undefined ? {} : { audience: settings.audience }),
      }));
    } catch (error) {
      throw new KernelError('UNAUTHORIZED', reasonOf(error));
    }
    const problem = ageProblem(payload, settings, currentDate.getTime() / 1000);
    if (problem !== undefined) throw new KernelError('UNAUTHORIZED', problem);
    // jose has checked that exp is a number by now.
    return { expiresAt: ((payload.exp ?? 0) + settings.clockSkewSeconds) * 1000, scopes: scopesOf(payload) };
  };
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
