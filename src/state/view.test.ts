import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { canonicalize } from '../crypto/index.js';
import { ParsedRecordCache } from './parsed-records.js';
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

describe('StateView records', () => {
  const at = (n: number, tag = 'a') =>
    canonicalize({ n, tag, list: [n], map: { [tag]: String(n) } });

  it('reads committed text as a record, and writes a record that reads back as its canonical text', () => {
    const base = new Map([['r', at(1)]]);
    const view = new StateView({ get: (k) => base.get(k) });
    assert.deepEqual(view.getRecord('r'), JSON.parse(at(1)));
    assert.equal(view.getRecord('missing'), undefined);
    view.setRecord('r', { tag: 'a', n: 2, map: { a: '2' }, list: [2] });
    assert.equal(view.get('r'), at(2), 'canonical text, keys sorted');
    assert.equal(view.getCommitted('r'), at(1));
    assert.deepEqual(view.getCommittedRecord('r'), JSON.parse(at(1)));
    assert.deepEqual([...view.writes()], [['r', at(2)]]);
  });

  it('serialises a written record once, and only when its text is needed', () => {
    // Not frozen: freezing reads the getter too.
    const view = new StateView({ get: () => undefined }, new ParsedRecordCache(100, false));
    let serialised = 0;
    // A getter counts each time canonicalize reads the record.
    const counted: Record<string, unknown> = {};
    Object.defineProperty(counted, 'n', {
      enumerable: true,
      get: () => {
        serialised += 1;
        return 1;
      },
    });
    view.setRecord('k', counted);
    view.setRecord('k', counted);
    assert.equal(serialised, 0, 'no text per write');
    const first = view.get('k');
    const writes = view.writes();
    assert.equal(first, '{"n":1}');
    assert.equal(writes.get('k'), '{"n":1}');
    assert.equal(serialised, 1, 'once, for the read and the write set together');
  });

  it('records the view holds are frozen, deep, when its cache says so (the default under node --test)', () => {
    const base = new Map([['r', at(1)]]);
    const view = new StateView({ get: (k) => base.get(k) }, new ParsedRecordCache(100, true));
    const read = view.getRecord<{ n: number; list: number[] }>('r')!;
    assert.throws(() => {
      (read as { n: number }).n = 5;
    }, TypeError);
    assert.throws(() => read.list.push(1), TypeError);
    const written = { n: 3, list: [3] };
    view.setRecord('w', written);
    assert.throws(() => written.list.push(4), TypeError);
    assert.equal(view.get('w'), '{"list":[3],"n":3}');
  });

  it('a text write reads as a record, and keeps its own text (not re-canonicalized)', () => {
    const view = new StateView({ get: () => undefined });
    view.set('t', '{ "b": 1, "a": [ 2 ] }');
    assert.deepEqual(view.getRecord('t'), { b: 1, a: [2] });
    assert.equal(view.get('t'), '{ "b": 1, "a": [ 2 ] }');
    assert.deepEqual([...view.writes()], [['t', '{ "b": 1, "a": [ 2 ] }']]);
  });

  it('range returns record writes as text', () => {
    const base = new Map([['p/1', at(1)]]);
    const view = new StateView({
      get: (k) => base.get(k),
      range: (prefix, limit) => [...base].filter(([k]) => k.startsWith(prefix)).slice(0, limit),
    });
    view.setRecord('p/2', JSON.parse(at(2)) as object);
    assert.deepEqual(view.range('p/', 10), [
      ['p/1', at(1)],
      ['p/2', at(2)],
    ]);
  });

  it('a kept ParsedRecordCache parses committed text once across views, and never serves stale text', () => {
    const base = new Map([
      ['r', at(1)],
      ['s', at(7)],
    ]);
    const parsed = new ParsedRecordCache();
    const first = new StateView({ get: (k) => base.get(k) }, parsed);
    const record = first.getRecord('r');
    first.setRecord('s', JSON.parse(at(8)) as object);
    const writes = first.writes();
    // The block commits: committed text is now the written text, the very same string.
    for (const [key, value] of writes) base.set(key, value!);
    const second = new StateView({ get: (k) => base.get(k) }, parsed);
    assert.equal(second.getRecord('r'), record, 'the same object: not parsed again');
    assert.deepEqual(second.getRecord('s'), JSON.parse(at(8)), 'a write of the block before');
    // Committed text changed by another path (a block executed elsewhere): parsed again.
    base.set('r', at(2));
    const third = new StateView({ get: (k) => base.get(k) }, parsed);
    assert.deepEqual(third.getRecord('r'), JSON.parse(at(2)));
  });

  it('the parsed cache stays within its bound and keeps what is read every block', () => {
    const parsed = new ParsedRecordCache(10);
    const hot = at(0, 'hot');
    for (let i = 0; i < 100; i++) {
      parsed.parse('hot', hot);
      parsed.parse(`cold/${i}`, at(i));
      assert.ok(parsed.size <= 10, `size ${parsed.size}`);
    }
    const before = parsed.parse('hot', hot);
    parsed.parse('cold/x', at(1));
    assert.equal(parsed.parse('hot', hot), before);
  });

  const recordOp = fc.oneof(
    fc.record({
      op: fc.constant('setRecord' as const),
      key: fc.constantFrom(...keys),
      n: fc.integer({ min: -3, max: 3 }),
    }),
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...keys), n: fc.nat(3) }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('getRecord' as const), key: fc.constantFrom(...keys) }),
    fc.constant({ op: 'snapshot' as const }),
    fc.record({ op: fc.constant('revert' as const), pick: fc.nat() }),
    fc.constant({ op: 'release' as const }),
  );

  it('with records, matches a text-only view through any writes, reads, snapshots and reverts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.nat(3)), { maxLength: 4 }),
        fc.array(recordOp, { maxLength: 60 }),
        (baseEntries, ops) => {
          const base = new Map(baseEntries.map(([k, n]) => [k, at(n, 'base')]));
          const parsed = new ParsedRecordCache(4);
          const view = new StateView({ get: (k) => base.get(k) }, parsed);
          const text = new StateView({ get: (k) => base.get(k) });
          const snapshots: [number, number][] = [[0, 0]];
          for (const o of ops) {
            switch (o.op) {
              case 'setRecord':
                view.setRecord(o.key, { n: o.n, tag: 'r', list: [o.n], map: { r: String(o.n) } });
                text.set(o.key, at(o.n, 'r'));
                break;
              case 'set':
                // Text written past the records, not canonical: kept as given on both sides.
                view.set(o.key, ` ${at(o.n, 't')}`);
                text.set(o.key, ` ${at(o.n, 't')}`);
                break;
              case 'delete':
                view.delete(o.key);
                text.delete(o.key);
                break;
              case 'getRecord': {
                const expected = text.get(o.key);
                assert.deepEqual(
                  view.getRecord(o.key),
                  expected === undefined ? undefined : JSON.parse(expected),
                );
                break;
              }
              case 'snapshot':
                snapshots.push([view.snapshot(), text.snapshot()]);
                break;
              case 'revert': {
                const index = o.pick % snapshots.length;
                view.revert(snapshots[index]![0]);
                text.revert(snapshots[index]![1]);
                snapshots.length = index + 1;
                break;
              }
              case 'release':
                view.release();
                text.release();
                snapshots.length = 1;
                break;
            }
            for (const key of keys) assert.equal(view.get(key), text.get(key), `get(${key})`);
          }
          assert.deepEqual([...view.writes()], [...text.writes()]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
