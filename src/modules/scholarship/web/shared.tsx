import './scholarship.css';

import { client } from '../../../../web/src/node.js';
import { mintStamp, type Stamp, type StampKind } from '../pow.js';

/* The scholarship pages' shared pieces: assets' decimals, body hashes and stamps. */

const decimalsOf = new Map<string, Promise<number>>();

/** An asset's decimals, read once per page load (they never change); a failed read is not kept. */
export function assetDecimals(symbol: string): Promise<number> {
  let known = decimalsOf.get(symbol);
  if (!known) {
    known = client.getAsset(symbol).then((a) => a.decimals);
    known.catch(() => decimalsOf.delete(symbol));
    decimalsOf.set(symbol, known);
  }
  return known;
}

/** The SHA-256 of a body's UTF-8 bytes, lowercase hex (WebCrypto). */
export async function bodyHashOf(body: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A stamp for `kind` of `contentHash` by `sender`, at the bits the node asks now for the subject
 * and the sender, on its latest block hash. Minting is a loop of SHA-256 in this tab: at the
 * default 12 bits, a few thousand hashes.
 */
export async function stampFor(
  kind: StampKind,
  subject: string,
  sender: string,
  contentHash: string,
): Promise<{ stamp: Stamp; bits: number }> {
  const { bits, blockHash } = await client.scholarship.difficulty({ subject, sender });
  return { stamp: mintStamp({ kind, contentHash, sender, blockHash }, bits), bits };
}

/** Stores a body at the node once its question or answer is committed (the node checks it). */
export async function storeBody(body: string): Promise<void> {
  await client.scholarship.putBody(body);
}
