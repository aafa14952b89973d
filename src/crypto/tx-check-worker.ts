/**
 * The verify pool's worker (src/crypto/verify-pool.ts starts it; never imported elsewhere).
 *
 * Two kinds of job, each one transferable buffer in and one out (layouts in verify-pool.ts):
 * - `verify`: ed25519 checks given as public key, message and signature bytes;
 * - `txs`: txs as JSON text. Per tx the worker parses the text, computes the canonical body and
 *   its SHA-256 with the same code the main thread uses (tx-digest.ts), hex-decodes the
 *   signature and, if asked, verifies it against the sender's key. The main thread keeps every
 *   other check (shape, chain, payload parser, mempool caps), so this file judges nothing else.
 */
import { parentPort } from 'node:worker_threads';

import { publicKeyFromAddress } from './address.js';
import { signingMessage } from './domains.js';
import { sha256 } from './hash.js';
import { verify } from './keys.js';
import { txBodyBytes } from './tx-digest.js';
import {
  CHUNK_HEADER_BYTES,
  HASH_LENGTH,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  TX_RESULT_BYTES,
  TxStatus,
} from './verify-pool-layout.js';

const signaturePattern = /^[0-9a-f]{128}$/;

function verifyChunk(bytes: Buffer): Uint8Array {
  const count = bytes.readUInt32LE(0);
  const results = new Uint8Array(count);
  let offset = CHUNK_HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    const messageLength = bytes.readUInt32LE(offset);
    offset += 4;
    const publicKey = bytes.subarray(offset, offset + PUBLIC_KEY_LENGTH);
    offset += PUBLIC_KEY_LENGTH;
    const signature = bytes.subarray(offset, offset + SIGNATURE_LENGTH);
    offset += SIGNATURE_LENGTH;
    const message = bytes.subarray(offset, offset + messageLength);
    offset += messageLength;
    results[index] = safeVerify(signature, message, publicKey) ? 1 : 0;
  }
  return results;
}

function safeVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** One tx's answer written at `out[at..at+TX_RESULT_BYTES)`; see verify-pool-layout.ts. */
function checkTx(text: string, withVerify: boolean, out: Uint8Array, view: DataView, at: number) {
  let tx: Record<string, unknown>;
  try {
    tx = JSON.parse(text) as Record<string, unknown>;
  } catch {
    out[at] = TxStatus.unreadable;
    return;
  }
  if (typeof tx !== 'object' || tx === null || Array.isArray(tx)) {
    out[at] = TxStatus.unreadable;
    return;
  }
  let body: Uint8Array;
  try {
    body = txBodyBytes(tx as never);
  } catch {
    out[at] = TxStatus.invalidBody;
    return;
  }
  const hash = sha256(body);
  view.setUint32(at + 4, body.length, true);
  out.set(hash, at + 8);
  const signature = tx.signature;
  if (typeof signature !== 'string' || !signaturePattern.test(signature)) {
    out[at] = TxStatus.badSignatureText;
    return;
  }
  const signatureBytes = Buffer.from(signature, 'hex');
  out.set(signatureBytes, at + 8 + HASH_LENGTH);
  out[at] = TxStatus.ok;
  if (!withVerify) return;
  let publicKey: Uint8Array;
  try {
    publicKey = publicKeyFromAddress(tx.sender as string, 'sender');
  } catch {
    return; // verdict stays 0
  }
  out[at + 1] = safeVerify(signatureBytes, signingMessage('tx', hash), publicKey) ? 1 : 0;
}

function txsChunk(bytes: Buffer, withVerify: boolean): Uint8Array {
  const count = bytes.readUInt32LE(0);
  const results = new Uint8Array(count * TX_RESULT_BYTES);
  const view = new DataView(results.buffer);
  let offset = CHUNK_HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    const length = bytes.readUInt32LE(offset);
    offset += 4;
    const text = bytes.toString('utf8', offset, offset + length);
    offset += length;
    checkTx(text, withVerify, results, view, index * TX_RESULT_BYTES);
  }
  return results;
}

interface Job {
  id: number;
  kind: 'verify' | 'txs';
  verify?: boolean;
  buffer: ArrayBuffer;
}

parentPort?.on('message', (job: Job) => {
  const bytes = Buffer.from(job.buffer);
  const results = job.kind === 'txs' ? txsChunk(bytes, job.verify === true) : verifyChunk(bytes);
  const buffer = results.buffer as ArrayBuffer;
  parentPort!.postMessage({ id: job.id, results: buffer }, [buffer]);
});
