// Ordered reads under a prefix (`range`): the SQLite store, the audit's replay store, and the
// block's state view with its pending writes over either.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';
import fc from 'fast-check';

import { sha256Hex } from '../crypto/index.js';
import { ReplayStore } from './replay-store.js';
import { SqliteBlockStore } from './sqlite-store.js';
import type { BlockCommit, BlockStore } from './store.js';
import { StateView, type OrderedStateReader, type WriteSet } from './view.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-range-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

let files = 0;
function newFile(): string {
  files += 1;
  return path.join(directory, `store-${files}.db`);
}

function commit(store: BlockStore, writes: WriteSet): void {
  const height = store.lastHeight() + 1;
  const block: BlockCommit = {
    block: {
      height,
      hash: sha256Hex(`block ${height}`),
      header: `{"height":${height}}`,
      signature: 'ab'.repeat(64),
      txCount: 0,
    },
    txs: [],
    writes,
    events: [],
  };
  store.commitBlock(block);
}

const stores: { name: string; open: () => BlockStore }[] = [
  { name: 'SqliteBlockStore', open: () => new SqliteBlockStore(newFile()) },
  { name: 'ReplayStore', open: () => new ReplayStore(newFile()) },
];

/** What `range` must answer: the entries of `state` under `prefix` between the bounds, sorted. */
function expected(
  state: Map<string, string>,
  prefix: string,
  limit: number,
  after?: string,
  before?: string,
): [string, string][] {
  return [...state.entries()]
    .filter(
      ([key]) =>
        key.startsWith(prefix) &&
        (after === undefined || key > after) &&
        (before === undefined || key < before),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit);
}

for (const { name, open } of stores) {
  describe(`${name}.range`, () => {
    it('answers the keys under the prefix in key order, from after, at most limit', () => {
      const store = open();
      try {
        commit(
          store,
          new Map([
            ['due/0002/b', '1'],
            ['due/0001/z', '2'],
            ['due/0010/a', '3'],
            ['due/', '4'],
            ['due-cursor', '5'],
            ['dua/9', '6'],
            ['duf/0', '7'],
          ]),
        );
        assert.deepEqual(store.range('due/', 10), [
          ['due/', '4'],
          ['due/0001/z', '2'],
          ['due/0002/b', '1'],
          ['due/0010/a', '3'],
        ]);
        assert.deepEqual(store.range('due/', 2), [
          ['due/', '4'],
          ['due/0001/z', '2'],
        ]);
        assert.deepEqual(store.range('due/', 2, { after: 'due/0001/z' }), [
          ['due/0002/b', '1'],
          ['due/0010/a', '3'],
        ]);
        assert.deepEqual(store.range('due/', 5, { after: 'due/0002' }), [
          ['due/0002/b', '1'],
          ['due/0010/a', '3'],
        ]);
        // An `after` before the prefix starts at the prefix; one past it leaves nothing.
        assert.deepEqual(store.range('due/', 1, { after: 'a' }), [['due/', '4']]);
        assert.deepEqual(store.range('due/', 5, { after: 'due/9' }), []);
        assert.deepEqual(store.range('due/', 0), []);
        // `before` ends the read early: the due entries of an index up to a point.
        assert.deepEqual(store.range('due/', 10, { before: 'due/0002' }), [
          ['due/', '4'],
          ['due/0001/z', '2'],
        ]);
        assert.deepEqual(store.range('due/', 10, { after: 'due/', before: 'due/0010' }), [
          ['due/0001/z', '2'],
          ['due/0002/b', '1'],
        ]);
        assert.deepEqual(store.range('due/', 10, { before: 'dud' }), []);
        assert.deepEqual(store.range('due/', 10, { before: 'zzz' }).length, 4);
        assert.deepEqual(store.range('none/', 5), []);
      } finally {
        store.close();
      }
    });

    it('leaves out deleted keys and sees each commit', () => {
      const store = open();
      try {
        const keys = Array.from({ length: 50 }, (_, i) => `idx/${String(i).padStart(4, '0')}`);
        commit(store, new Map(keys.map((key) => [key, 'v'])));
        commit(store, new Map(keys.slice(0, 45).map((key) => [key, null])));
        assert.deepEqual(
          store.range('idx/', 3).map(([key]) => key),
          keys.slice(45, 48),
        );
        commit(store, new Map([['idx/0000', 'back']]));
        assert.deepEqual(store.range('idx/', 2), [
          ['idx/0000', 'back'],
          ['idx/0045', 'v'],
        ]);
      } finally {
        store.close();
      }
    });
  });
}

describe('ReplayStore.range', () => {
  it('seeks through the index of live keys, past any number of deleted rows', () => {
    const file = newFile();
    const store = new ReplayStore(file);
    try {
      const keys = Array.from({ length: 2_000 }, (_, i) => `idx/${String(i).padStart(6, '0')}`);
      commit(store, new Map(keys.map((key) => [key, 'v'])));
      commit(store, new Map(keys.slice(0, 1_990).map((key) => [key, null])));
      assert.deepEqual(
        store.range('idx/', 3).map(([key]) => key),
        keys.slice(1_990, 1_993),
      );
      const db = new Database(file, { readonly: true });
      try {
        const plan = db
          .prepare<[], { detail: string }>(
            "EXPLAIN QUERY PLAN SELECT key, value FROM state INDEXED BY live WHERE key >= 'idx/' AND key < 'idx0' AND value IS NOT NULL ORDER BY key LIMIT 5",
          )
          .all()
          .map((row) => row.detail)
          .join('; ');
        assert.match(plan, /INDEX live \(key>\? AND key<\?\)|INDEX live \(key>'?/);
        // The deleted rows are not in the index at all.
        const live = db
          .prepare<[], { n: number }>(
            "SELECT count(*) AS n FROM state INDEXED BY live WHERE key >= 'idx/' AND key < 'idx0' AND value IS NOT NULL",
          )
          .get()!.n;
        assert.equal(live, 10);
      } finally {
        db.close();
      }
    } finally {
      store.close();
    }
  });
});

describe('StateView.range', () => {
  it('reads the block writes over committed state: written keys as written, deleted ones out', () => {
    const store = new SqliteBlockStore(newFile());
    try {
      commit(
        store,
        new Map([
          ['i/01', 'a'],
          ['i/03', 'c'],
          ['i/05', 'e'],
          ['j/00', 'x'],
        ]),
      );
      const view = new StateView(store);
      view.set('i/02', 'b');
      view.set('i/03', 'C');
      view.delete('i/05');
      view.set('i/06', 'f');
      view.set('ix', 'not under i/');
      assert.deepEqual(view.range('i/', 10), [
        ['i/01', 'a'],
        ['i/02', 'b'],
        ['i/03', 'C'],
        ['i/06', 'f'],
      ]);
      assert.deepEqual(view.range('i/', 2, { after: 'i/02' }), [
        ['i/03', 'C'],
        ['i/06', 'f'],
      ]);
      // Writes after the first range are seen too, and a reverted write is gone again.
      const snapshot = view.snapshot();
      view.set('i/04', 'd');
      view.delete('i/01');
      assert.deepEqual(
        view.range('i/', 10).map(([key]) => key),
        ['i/02', 'i/03', 'i/04', 'i/06'],
      );
      view.revert(snapshot);
      assert.deepEqual(
        view.range('i/', 10).map(([key]) => key),
        ['i/01', 'i/02', 'i/03', 'i/06'],
      );
    } finally {
      store.close();
    }
  });

  it('reads committed state in batches past what the block deleted, never the whole prefix', () => {
    const store = new SqliteBlockStore(newFile());
    try {
      const keys = Array.from({ length: 5_000 }, (_, i) => `q/${String(i).padStart(6, '0')}`);
      commit(store, new Map(keys.map((key) => [key, '1'])));
      let rowsRead = 0;
      const counted: OrderedStateReader = {
        get: (key) => store.get(key),
        range: (prefix, limit, bounds) => {
          const rows = store.range(prefix, limit, bounds);
          rowsRead += rows.length;
          return rows;
        },
      };
      const view = new StateView(counted);
      assert.deepEqual(
        view.range('q/', 3).map(([key]) => key),
        keys.slice(0, 3),
      );
      assert.ok(rowsRead <= 3, `${rowsRead} rows for 3 entries`);
      // The block settles the first 100 entries: the next read steps over them, in batches.
      for (const key of keys.slice(0, 100)) view.delete(key);
      rowsRead = 0;
      assert.deepEqual(
        view.range('q/', 10).map(([key]) => key),
        keys.slice(100, 110),
      );
      assert.ok(rowsRead <= 120, `${rowsRead} rows for 10 entries behind 100 deletions`);
    } finally {
      store.close();
    }
  });

  it('refuses a prefix that does not end at a key separator, and a view over a plain reader', () => {
    const view = new StateView({ get: () => undefined });
    assert.throws(() => view.range('a', 1), /must end with \//);
    assert.throws(() => view.range('a/', 1), /cannot be read in key order/);
  });

  it('property: equals a model of committed state and the block writes, across reverts', () => {
    // Few segments, so prefixes overlap, keys collide with committed ones and sort interleaved.
    const segment = fc.constantFrom('a', 'b', 'ab', '0', '1', '10');
    const key = fc
      .array(segment, { minLength: 1, maxLength: 3 })
      .map((parts) => ['k', ...parts].join('/'));
    const prefix = fc
      .array(segment, { minLength: 0, maxLength: 2 })
      .map((parts) => ['k', ...parts, ''].join('/'));
    type Op =
      | { op: 'set'; key: string; value: string }
      | { op: 'delete'; key: string }
      | { op: 'snapshot' }
      | { op: 'revert'; pick: number }
      | { op: 'release' }
      | {
          op: 'range';
          prefix: string;
          limit: number;
          after: string | undefined;
          before: string | undefined;
        };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          op: fc.constant('set' as const),
          key,
          value: fc.string({ maxLength: 2 }),
        }),
      },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
      { weight: 1, arbitrary: fc.constant({ op: 'snapshot' as const }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('revert' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
      {
        weight: 4,
        arbitrary: fc.record({
          op: fc.constant('range' as const),
          prefix,
          limit: fc.integer({ min: 0, max: 6 }),
          after: fc.option(key, { nil: undefined }),
          before: fc.option(key, { nil: undefined }),
        }),
      },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.string({ maxLength: 2 })), { maxLength: 30 }),
        fc.array(op, { maxLength: 60 }),
        (committedEntries, ops) => {
          const store = new SqliteBlockStore(newFile());
          try {
            const committed = new Map(committedEntries);
            commit(store, new Map(committed));
            const view = new StateView(store);
            // The model: the state as `get` reads it, with a stack of copies for snapshots.
            let model = new Map(committed);
            let snapshots: { at: number; state: Map<string, string> }[] = [];
            for (const step of ops) {
              if (step.op === 'set') {
                view.set(step.key, step.value);
                model.set(step.key, step.value);
              } else if (step.op === 'delete') {
                view.delete(step.key);
                model.delete(step.key);
              } else if (step.op === 'snapshot') {
                snapshots.push({ at: view.snapshot(), state: new Map(model) });
              } else if (step.op === 'revert') {
                if (snapshots.length === 0) continue;
                const index = step.pick % snapshots.length;
                const target = snapshots[index]!;
                view.revert(target.at);
                model = new Map(target.state);
                snapshots = snapshots.slice(0, index + 1);
              } else if (step.op === 'release') {
                view.release();
                snapshots = [];
              } else {
                const bounds = {
                  ...(step.after === undefined ? {} : { after: step.after }),
                  ...(step.before === undefined ? {} : { before: step.before }),
                };
                assert.deepEqual(
                  view.range(step.prefix, step.limit, bounds),
                  expected(model, step.prefix, step.limit, step.after, step.before),
                  JSON.stringify(step),
                );
              }
            }
            assert.deepEqual(view.range('k/', 1_000), expected(model, 'k/', 1_000));
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
