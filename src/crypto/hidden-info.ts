import { secretKeyBytes } from './accountable.js';
import { backend, type Aes256Gcm } from './backend.js';
import { concatBytes, fromHex, textOfUtf8, toHex, utf8 } from './bytes.js';
import { canonicalBytes } from './canonical.js';
import { CryptoInputError } from './errors.js';

/**
 * Hidden information (HI): a producer's identity information (free JSON: name, operator
 * contact, legal entity), encrypted under a key derived from its accountable secret scalar x,
 * plus a commitment to it. Both are published at registration. Equivocation reveals x
 * (accountable.ts), x gives the key, and anyone can then decrypt the HI and check it against the
 * commitment.
 *
 *   salt       = 32 random bytes (hides low-entropy info: a name could otherwise be guessed
 *                and checked against the commitment)
 *   commitment = SHA-256("coffer/hidden-info/commit/v1" || salt || canonical(info)), hex
 *   key        = HKDF-SHA256(ikm = secretKeyBytes(x), salt = "",
 *                            info = "coffer/hidden-info/key/v1")
 *   plaintext  = canonical({ "info": info, "salt": hex(salt) })
 *   hiddenInfo = hex(iv (12) || AES-256-GCM(key, iv, plaintext,
 *                                           aad = "coffer/hidden-info/aead/v1") || tag (16))
 *
 * The IV and salt are random: encryption runs once, off-chain, at registration, and one key
 * encrypts one plaintext, so IV reuse is not a concern in practice.
 *
 * What this cannot do: before x is revealed nobody but the producer can tell whether the HI
 * decrypts to info matching the commitment. The commitment binds the producer to one info; a
 * producer that publishes an HI that does not open is found out only when it equivocates (and
 * is slashed all the same).
 */

/** Largest identity information accepted, in bytes of its canonical JSON. */
export const hiddenInfoBytesMax = 4096;

export const hiddenInfoDomains = {
  commit: 'coffer/hidden-info/commit/v1',
  key: 'coffer/hidden-info/key/v1',
  aead: 'coffer/hidden-info/aead/v1',
} as const;

const COMMIT_DOMAIN = utf8(hiddenInfoDomains.commit);
const KEY_INFO = utf8(hiddenInfoDomains.key);
const AEAD_DATA = utf8(hiddenInfoDomains.aead);

const SALT_LENGTH = 32;
const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
// canonical({"info":<info>,"salt":"<64 hex>"}) adds 83 bytes around the info.
const PLAINTEXT_OVERHEAD = '{"info":,"salt":""}'.length + 2 * SALT_LENGTH;
/** Longest `hiddenInfo` accepted, in bytes (its hex is twice as long). */
export const hiddenInfoCiphertextBytesMax =
  IV_LENGTH + hiddenInfoBytesMax + PLAINTEXT_OVERHEAD + TAG_LENGTH;

const LOWERCASE_HEX_64 = /^[0-9a-f]{64}$/;

/** Published at registration: the encrypted info and the commitment to it, both hex. */
export interface HiddenInfo {
  hiddenInfo: string;
  commitment: string;
}

/** What a revealed HI holds: the info, and the salt that opens the commitment. */
export interface RevealedInfo {
  info: unknown;
  /** hex; with `info` anyone can recompute the commitment (commitInfo). */
  salt: string;
}

/** canonical(info), or a CryptoInputError naming `info` (or the bad path inside it). */
function infoBytes(info: unknown): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(info);
  } catch (error) {
    if (!(error instanceof CryptoInputError)) throw error;
    const field =
      error.field === 'value'
        ? 'info'
        : error.field.startsWith('[')
          ? `info${error.field}`
          : `info.${error.field}`;
    throw new CryptoInputError(field, error.message.replace(error.field, field));
  }
  if (bytes.length > hiddenInfoBytesMax) {
    throw new CryptoInputError(
      'info',
      `info must be at most ${hiddenInfoBytesMax} bytes of canonical JSON, got ${bytes.length}`,
    );
  }
  return bytes;
}

function commitmentOf(salt: Uint8Array, canonicalInfo: Uint8Array): string {
  return backend.sha256Hex(concatBytes(COMMIT_DOMAIN, salt, canonicalInfo));
}

function encryptionKey(secretScalar: bigint): Uint8Array {
  return backend.hkdfSha256(secretKeyBytes(secretScalar), new Uint8Array(0), KEY_INFO, KEY_LENGTH);
}

function aes256Gcm(): Aes256Gcm {
  if (backend.aes256Gcm === undefined) {
    // A missing capability of this build, not bad input: the portable backend (browsers) has no
    // synchronous AES yet (backend.ts).
    throw new Error(
      `hidden info needs AES-256-GCM, which the ${backend.name} crypto backend lacks`,
    );
  }
  return backend.aes256Gcm;
}

/**
 * The commitment to `info` under `salt` (32 bytes): lowercase hex of
 * SHA-256("coffer/hidden-info/commit/v1" || salt || canonical(info)).
 */
export function commitInfo(info: unknown, salt: Uint8Array): string {
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_LENGTH) {
    throw new CryptoInputError('salt', `salt must be a Uint8Array of ${SALT_LENGTH} bytes`);
  }
  return commitmentOf(salt, infoBytes(info));
}

/**
 * Encrypts `info` (JSON that canonicalizes to at most hiddenInfoBytesMax bytes) under the key
 * derived from `secretScalar`, with a fresh random salt and IV, and commits to it.
 */
export function encryptHiddenInfo(secretScalar: bigint, info: unknown): HiddenInfo {
  const canonicalInfo = infoBytes(info);
  const cipher = aes256Gcm();
  const key = encryptionKey(secretScalar);
  const salt = backend.randomBytes(SALT_LENGTH);
  const iv = backend.randomBytes(IV_LENGTH);
  const plaintext = canonicalBytes({ info, salt: toHex(salt) });
  const sealed = cipher.encrypt(key, iv, plaintext, AEAD_DATA);
  return {
    hiddenInfo: toHex(concatBytes(iv, sealed)),
    commitment: commitmentOf(salt, canonicalInfo),
  };
}

/**
 * Decrypts `hiddenInfo` with the key derived from `secretScalar` and checks it against
 * `commitment`. Returns the info and salt, or undefined on any failure (wrong key, tampered
 * ciphertext, commitment mismatch, malformed input). Never throws.
 */
export function revealHiddenInfo(
  secretScalar: bigint,
  hiddenInfo: string,
  commitment: string,
): RevealedInfo | undefined {
  try {
    if (typeof hiddenInfo !== 'string' || typeof commitment !== 'string') return undefined;
    if (!LOWERCASE_HEX_64.test(commitment)) return undefined;
    if (hiddenInfo.length > 2 * hiddenInfoCiphertextBytesMax) return undefined;
    if (hiddenInfo.length < 2 * (IV_LENGTH + TAG_LENGTH)) return undefined;
    const bytes = fromHex(hiddenInfo, 'hiddenInfo');
    const iv = bytes.subarray(0, IV_LENGTH);
    const sealed = bytes.subarray(IV_LENGTH);
    const plaintext = aes256Gcm().decrypt(encryptionKey(secretScalar), iv, sealed, AEAD_DATA);
    if (plaintext === undefined) return undefined;
    const opened: unknown = JSON.parse(textOfUtf8(plaintext));
    if (typeof opened !== 'object' || opened === null || Array.isArray(opened)) return undefined;
    const { info, salt } = opened as { info?: unknown; salt?: unknown };
    if (info === undefined || typeof salt !== 'string' || !LOWERCASE_HEX_64.test(salt)) {
      return undefined;
    }
    const expected = commitmentOf(fromHex(salt, 'salt', SALT_LENGTH), canonicalBytes(info));
    if (expected !== commitment) return undefined;
    return { info, salt };
  } catch {
    return undefined;
  }
}
