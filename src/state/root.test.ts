import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalize, sha256, toHex } from '../crypto/index.js';
import { genesisParentRoot, nextStateRoot, writeSetDigest } from './root.js';
import type { WriteSet } from './view.js';

const writeSet = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.option(fc.string({ maxLength: 40 })))
  .map((entries) => {
    const writes: WriteSet = new Map();
    for (const key of Object.keys(entries).sort()) writes.set(key, entries[key] ?? null);
    return writes;
  });

describe('state root', () => {
  it('the write-set digest is SHA-256 of the canonical JSON of the sorted writes (property)', () => {
    fc.assert(
      fc.property(writeSet, (writes) => {
        const expected = sha256(canonicalize([...writes].map(([key, value]) => [key, value])));
        assert.equal(toHex(writeSetDigest(writes)), toHex(expected));
      }),
      { numRuns: 300 },
    );
  });

  it('chains: a different write, a deletion or a different parent changes the root', () => {
    const writes: WriteSet = new Map([
      ['a', '1'],
      ['b', '2'],
    ]);
    const root = toHex(nextStateRoot(genesisParentRoot, writes));
    assert.notEqual(
      toHex(
        nextStateRoot(
          genesisParentRoot,
          new Map([
            ['a', '1'],
            ['b', '3'],
          ]),
        ),
      ),
      root,
    );
    assert.notEqual(
      toHex(
        nextStateRoot(
          genesisParentRoot,
          new Map([
            ['a', '1'],
            ['b', null],
          ]),
        ),
      ),
      root,
    );
    assert.notEqual(toHex(nextStateRoot(sha256('other'), writes)), root);
    assert.equal(toHex(nextStateRoot(genesisParentRoot, new Map(writes))), root, 'deterministic');
  });
});
