// What test/sdk-browser.test.ts runs twice, in Node (node:crypto backend) and bundled for the
// browser in headless Chromium (portable backend), to compare the answers: key import, tx signing
// and hashing with the SDK, a tx inclusion proof verified with the SDK (accountable header
// signature, nonce proof, Merkle paths), and the raw ed25519 vectors. Plain data in and out, so
// the answers cross the page boundary as JSON.
import { backend } from '../../src/crypto/backend.js';
import {
  fromHex,
  keyPairFromSecret,
  sign,
  signingMessage,
  toHex,
  verify,
} from '../../src/crypto/index.js';
import {
  hashTx,
  importKey,
  signTx,
  verifyTxInclusion,
  type ProducerTrust,
  type TxWithProof,
  type UnsignedTx,
} from '../../src/sdk/index.js';

export interface BrowserCheckInput {
  keys: { secretKey: string; message: string }[];
  txs: { secretKey: string; body: UnsignedTx }[];
  inclusion: TxWithProof;
  trust: ProducerTrust;
}

export interface BrowserCheckResult {
  backend: string;
  keys: { publicKey: string; signature: string; verifies: boolean; flippedVerifies: boolean }[];
  txs: { address: string; hash: string; signature: string; verifies: boolean }[];
  inclusion: { ok: boolean; checks: string[] };
  forgedHeader: { ok: boolean; checks: string[] };
  forgedTx: { ok: boolean; checks: string[] };
}

function flipFirstBit(hex: string): string {
  return ((parseInt(hex.slice(0, 1), 16) ^ 1).toString(16) + hex.slice(1)).toLowerCase();
}

function verdictOf(verdict: { ok: boolean; failures: { check: string }[] }): {
  ok: boolean;
  checks: string[];
} {
  return { ok: verdict.ok, checks: verdict.failures.map((failure) => failure.check) };
}

export function runBrowserCheck(input: BrowserCheckInput): BrowserCheckResult {
  const keys = input.keys.map((vector) => {
    const secretKey = fromHex(vector.secretKey);
    const message = fromHex(vector.message);
    const { publicKey } = keyPairFromSecret(secretKey);
    const signature = sign(message, secretKey);
    const flipped = signature.slice();
    flipped[0]! ^= 1;
    return {
      publicKey: toHex(publicKey),
      signature: toHex(signature),
      verifies: verify(signature, message, publicKey),
      flippedVerifies: verify(flipped, message, publicKey),
    };
  });
  const txs = input.txs.map((vector) => {
    const key = importKey(vector.secretKey);
    const signed = signTx(vector.body, key);
    const { publicKey } = keyPairFromSecret(fromHex(key.secretKey));
    const hash = hashTx(vector.body);
    return {
      address: key.address,
      hash,
      signature: signed.signature,
      verifies: verify(fromHex(signed.signature), signingMessage('tx', hash), publicKey),
    };
  });
  const { inclusion, trust } = input;
  const forgedHeader: TxWithProof = {
    ...inclusion,
    block: {
      ...inclusion.block,
      signature: { ...inclusion.block.signature, s: flipFirstBit(inclusion.block.signature.s) },
    },
  };
  const forgedTx: TxWithProof = {
    ...inclusion,
    tx: { ...inclusion.tx, signature: flipFirstBit(inclusion.tx.signature) },
  };
  return {
    backend: backend.name,
    keys,
    txs,
    inclusion: verdictOf(verifyTxInclusion(inclusion, trust)),
    forgedHeader: verdictOf(verifyTxInclusion(forgedHeader, trust)),
    forgedTx: verdictOf(verifyTxInclusion(forgedTx, trust)),
  };
}
