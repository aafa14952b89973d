/*
 * Access tokens (RFC 7519 JWTs as compact JWS, RFC 8037 EdDSA), made with `jose` and signed by
 * the content's key, which the gateway holds wrapped in its store:
 *
 *   header { alg: 'EdDSA', typ: 'coffer-access+jwt', kid: contentId }
 *   claims { iss: gateway account of the content, sub: licensee, aud: contentId, agr, act, dev?,
 *            rem, cnf: { jwk: the licensee's ed25519 key (RFC 7800) }, cip, iat, exp, jti }
 *
 * `cnf` binds the token to the licensee's key: each request carries a signature by that key (the
 * proof of possession), so a token copied by anyone else is useless. `cip` binds URL-mode
 * requests (which carry no header) to the client address the token was issued to.
 */
import crypto from 'node:crypto';
import * as jose from 'jose';
import { gatewayActions, jtiPattern, type GatewayAction } from './messages.js';

export const tokenType = 'coffer-access+jwt';

export interface AccessClaims {
  iss: string;
  sub: string;
  aud: string;
  agr: string;
  act: GatewayAction;
  dev?: string;
  /** Uses of the action left after this one, null when the licence counts none. */
  rem: number | null;
  cnf: { jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } };
  cip: string;
  iat: number;
  exp: number;
  jti: string;
}

function privateKeyOf(secret: Uint8Array, publicKeyHex: string): crypto.KeyObject {
  return crypto.createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: Buffer.from(secret).toString('base64url'),
      x: Buffer.from(publicKeyHex, 'hex').toString('base64url'),
    },
  });
}

const publicKeys = new Map<string, crypto.KeyObject>();
const publicKeysMax = 10_000;

function publicKeyOf(publicKeyHex: string): crypto.KeyObject {
  let key = publicKeys.get(publicKeyHex);
  if (!key) {
    key = crypto.createPublicKey({
      format: 'jwk',
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(publicKeyHex, 'hex').toString('base64url'),
      },
    });
    if (publicKeys.size >= publicKeysMax) publicKeys.clear();
    publicKeys.set(publicKeyHex, key);
  }
  return key;
}

export function jwkOf(publicKeyHex: string): AccessClaims['cnf']['jwk'] {
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKeyHex, 'hex').toString('base64url') };
}

/** The licensee's key (64 hex) in a token's `cnf.jwk`, or undefined when it is not one. */
export function cnfKeyHex(claims: Pick<AccessClaims, 'cnf'>): string | undefined {
  const jwk = claims.cnf?.jwk;
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    return undefined;
  }
  const bytes = Buffer.from(jwk.x, 'base64url');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

export async function issueAccessToken(input: {
  contentId: string;
  secret: Uint8Array;
  publicKeyHex: string;
  claims: Omit<AccessClaims, 'iat' | 'exp' | 'jti' | 'aud'>;
  nowMs: number;
  ttlMs: number;
}): Promise<{ token: string; jti: string; expiresAt: number }> {
  const jti = crypto.randomBytes(16).toString('hex');
  const iat = Math.floor(input.nowMs / 1000);
  const exp = Math.floor((input.nowMs + input.ttlMs) / 1000);
  const token = await new jose.SignJWT({ ...input.claims, jti })
    .setProtectedHeader({ alg: 'EdDSA', typ: tokenType, kid: input.contentId })
    .setAudience(input.contentId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(privateKeyOf(input.secret, input.publicKeyHex));
  return { token, jti, expiresAt: exp * 1000 };
}

export type TokenCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; code: 'token_invalid' | 'token_expired'; message: string };

/** The `kid` of a token (the content it is for), read before its signature is checked. */
export function tokenContentId(token: string): string | undefined {
  try {
    const header = jose.decodeProtectedHeader(token);
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies a token for `contentId` with the content's public key at `nowMs`. */
export async function verifyAccessToken(
  token: string,
  contentId: string,
  publicKeyHex: string,
  nowMs: number,
): Promise<TokenCheck> {
  if (token.length > 4096) return { ok: false, code: 'token_invalid', message: 'token too long' };
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, publicKeyOf(publicKeyHex), {
      algorithms: ['EdDSA'],
      typ: tokenType,
      audience: contentId,
      currentDate: new Date(nowMs),
      clockTolerance: 0,
      requiredClaims: ['sub', 'agr', 'act', 'cnf', 'cip', 'exp', 'iat', 'jti'],
    });
    if (protectedHeader.kid !== contentId) throw new Error('kid is not this content');
    const claims = payload as unknown as AccessClaims;
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.agr !== 'string' ||
      !gatewayActions.includes(claims.act) ||
      typeof claims.cip !== 'string' ||
      typeof claims.jti !== 'string' ||
      !jtiPattern.test(claims.jti) ||
      cnfKeyHex(claims) === undefined
    ) {
      throw new Error('claims of the wrong shape');
    }
    return { ok: true, claims };
  } catch (error) {
    if (error instanceof jose.errors.JWTExpired) {
      return {
        ok: false,
        code: 'token_expired',
        message: 'the access token has expired: ask for a new one',
      };
    }
    return {
      ok: false,
      code: 'token_invalid',
      message: `the access token does not verify for this content: ${(error as Error).message}`,
    };
  }
}
