import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signBlockHeader, zeroHash, type BlockHeader } from '../../chain/index.js';
import { TestBlockSigner } from '../../../test/support/block-signer.js';
import { testAccount } from '../../../test/support/module-chain.js';
import { checkEvidence, evidenceSecret } from '../../modules/producers/index.js';
import { equivocation, readAttestation, readProposal, signAttestation } from './wire.js';

const chainId = 'wire-test';
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const state = { height: 7, blockHash: 'ab'.repeat(32), stateRoot: 'cd'.repeat(32) };

function header(height: number, producer: string, txRoot = zeroHash): BlockHeader {
  return {
    chainId,
    height,
    prevHash: zeroHash,
    time: 1_000,
    txCount: 0,
    txRoot,
    receiptRoot: zeroHash,
    stateRoot: zeroHash,
    producer,
  };
}

describe('cluster messages', () => {
  const validator = testAccount(7);

  it('an attestation reads back only as signed, for its chain', () => {
    const attestation = signAttestation(chainId, state, validator);
    assert.deepEqual(readAttestation(encode(attestation), chainId), attestation);
    assert.equal(readAttestation(encode(attestation), 'other-chain'), undefined);
    for (const tampered of [
      { ...attestation, stateRoot: 'ce'.repeat(32) },
      { ...attestation, height: 8 },
      { ...attestation, validator: testAccount(8).address },
      { ...attestation, signature: '00'.repeat(64) },
      { ...attestation, height: 0 },
      // The same signature in uppercase hex: a second encoding of one attestation.
      { ...attestation, signature: attestation.signature.toUpperCase() },
    ]) {
      assert.equal(readAttestation(encode(tampered), chainId), undefined);
    }
    assert.equal(readAttestation(new TextEncoder().encode('not json'), chainId), undefined);
  });

  it('two blocks one producer signed at one height are evidence the registry accepts', () => {
    const signer = new TestBlockSigner(new Uint8Array(32).fill(9), chainId);
    const a = signBlockHeader(header(5, signer.producer), signer);
    const b = signBlockHeader(header(5, signer.producer, 'ee'.repeat(32)), signer);
    assert.deepEqual(readProposal(encode(b), chainId), b);
    assert.equal(readProposal(encode({ ...b, hash: a.hash }), chainId), undefined);
    const evidence = equivocation(a, b);
    assert.ok(evidence);
    assert.equal(checkEvidence(evidence), undefined);
    assert.equal(evidenceSecret(evidence), signer.key.secretScalar);
    assert.equal(equivocation(a, a), undefined);
    const other = new TestBlockSigner(new Uint8Array(32).fill(10), chainId);
    assert.equal(equivocation(a, signBlockHeader(header(5, other.producer), other)), undefined);
    assert.equal(equivocation(a, signBlockHeader(header(6, signer.producer), signer)), undefined);
  });
});
