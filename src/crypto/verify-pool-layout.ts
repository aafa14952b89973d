/**
 * The byte layouts the verify pool and its worker (tx-check-worker.ts) share. All integers are
 * little-endian.
 *
 * A `verify` chunk: u32 count, then per check u32 messageLength, 32-byte public key, 64-byte
 * signature, message bytes. Its answer: one byte per check, 1 when the signature is valid.
 *
 * A `txs` chunk: u32 count, then per tx u32 textLength and the tx's JSON text in UTF-8. Its
 * answer: TX_RESULT_BYTES per tx: u8 status (TxStatus), u8 verdict (1 when asked to verify and
 * the signature is valid), 2 bytes unused, u32 length of the canonical body, the 32-byte hash of
 * the canonical body, the 64-byte signature. Fields after the status are zero when the status
 * says the worker could not compute them.
 */
export const CHUNK_HEADER_BYTES = 4;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const HASH_LENGTH = 32;
export const CHECK_HEADER_BYTES = 4 + PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH;
export const TX_HEADER_BYTES = 4;
export const TX_RESULT_BYTES = 8 + HASH_LENGTH + SIGNATURE_LENGTH;

/** What the worker made of one tx's text. */
export const TxStatus = {
  ok: 0,
  /** Not JSON, or not a JSON object. */
  unreadable: 1,
  /** The body has no canonical form (nested deeper than canonical JSON allows). */
  invalidBody: 2,
  /** The signature is not 128 lowercase hex digits. */
  badSignatureText: 3,
} as const;
