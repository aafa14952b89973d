import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { StateView } from './view.js';

const keys = ['a', 'b', 'c', 'd', 'e'];

function committed(entries: [string, string][]): Map<string, string> {
  return new Map(entries);
}

describe('StateView', () => {
  it('reads through to committed state and overlays writes and deletions', () => {
    const base = committed([
      ['a', '1'],
      ['b', '2'],
    ]);
    const view = new StateView({ get: (k) => base.get(k) });
    view.set('a', '10');
    view.delete('b');
    view.set('c', '3');
    assert.equal(view.get('a'), '10');
    assert.equal(view.get('b'), undefined);
    assert.equal(view.get('c'), '3');
    assert.equal(view.getCommitted('a'), '1');
    assert.equal(view.getCommitted('b'), '2');
    assert.deepEqual(
      [...view.writes()],
      [
        ['a', '10'],
        ['b', null],
        ['c', '3'],
      ],
    );
    assert.deepEqual(
      base,
      committed([
        ['a', '1'],
        ['b', '2'],
      ]),
      'committed state is never written',
    );
  });

  it('revert undoes exactly the writes after the snapshot, including rewrites of one key', () => {
    const base = committed([['a', '1']]);
    const view = new StateView({ get: (k) => base.get(k) });
    view.set('a', '2');
    const snapshot = view.snapshot();
    view.set('a', '3');
    view.delete('a');
    view.set('b', 'x');
    view.revert(snapshot);
    assert.equal(view.get('a'), '2');
    assert.equal(view.get('b'), undefined);
    assert.deepEqual([...view.writes()], [['a', '2']]);
    view.revert(0);
    assert.deepEqual([...view.writes()], []);
    assert.equal(view.get('a'), '1');
  });

  it('release keeps the writes and forgets how to undo them', () => {
    const view = new StateView({ get: () => undefined });
    view.set('a', '1');
    view.release();
    assert.equal(view.snapshot(), 0);
    view.set('b', '2');
    view.revert(0);
    assert.deepEqual([...view.writes()], [['a', '1']]);
    assert.throws(() => view.revert(1), /snapshot out of range/);
  });

  it('a key created and deleted again within the block is no write', () => {
    const base = committed([['b', 'old']]);
    const view = new StateView({ get: (k) => base.get(k) });
    view.set('a', 'tmp');
    view.delete('a');
    view.delete('b');
    assert.deepEqual([...view.writes()], [['b', null]]);
  });

  type Op =
    | { op: 'set'; key: string; value: string }
    | { op: 'delete'; key: string }
    | { op: 'snapshot' }
    | { op: 'revert'; pick: number }
    | { op: 'release' };

  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        key: fc.constantFrom(...keys),
        value: fc.string({ maxLength: 2 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    },
    { weight: 2, arbitrary: fc.constant({ op: 'snapshot' as const }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('revert' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
  );

  it('matches a copy-on-snapshot model through any sequence of writes, snapshots and reverts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.string({ maxLength: 2 })), { maxLength: 4 }),
        fc.array(op, { maxLength: 60 }),
        (baseEntries, ops) => {
          const base = new Map(baseEntries);
          const view = new StateView({ get: (k) => base.get(k) });
          // The model: current contents, the keys written and not reverted, and full copies of
          // both at each snapshot still valid.
          let contents = new Map(base);
          let touched = new Set<string>();
          let snapshots: { id: number; contents: Map<string, string>; touched: Set<string> }[] = [
            { id: 0, contents: new Map(contents), touched: new Set() },
          ];
          for (const o of ops) {
            switch (o.op) {
              case 'set':
                view.set(o.key, o.value);
                contents.set(o.key, o.value);
                touched.add(o.key);
                break;
              case 'delete':
                view.delete(o.key);
                contents.delete(o.key);
                touched.add(o.key);
                break;
              case 'snapshot':
                snapshots.push({
                  id: view.snapshot(),
                  contents: new Map(contents),
                  touched: new Set(touched),
                });
                break;
              case 'revert': {
                const target = snapshots[o.pick % snapshots.length]!;
                view.revert(target.id);
                contents = new Map(target.contents);
                touched = new Set(target.touched);
                snapshots = snapshots.filter((s) => s.id <= target.id);
                break;
              }
              case 'release':
                view.release();
                snapshots = [{ id: 0, contents: new Map(contents), touched: new Set(touched) }];
                break;
            }
            for (const key of keys) assert.equal(view.get(key), contents.get(key), `get(${key})`);
            const expectedWrites = [...touched]
              .sort()
              .filter((key) => contents.has(key) || base.has(key))
              .map((key) => [key, contents.get(key) ?? null]);
            assert.deepEqual([...view.writes()], expectedWrites);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
