import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';
import fc from 'fast-check';

import { sha256Hex } from '../crypto/index.js';
import { SqliteBlockStore } from './sqlite-store.js';
import type { BlockCommit, StoredEvent, StoredTx } from './store.js';
import type { WriteSet } from './view.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-sqlite-store-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

let files = 0;
function newFile(): string {
  files += 1;
  return path.join(directory, `store-${files}`, 'chain.db');
}

function tx(height: number, index: number, name: string): StoredTx {
  return {
    hash: sha256Hex(name),
    height,
    index,
    body: `{"tx":"${name}"}`,
    receipt: `{"status":"ok","tx":"${name}"}`,
  };
}

function event(
  height: number,
  txIndex: number,
  eventIndex: number,
  type = 'test.event',
): StoredEvent {
  return { height, txIndex, eventIndex, type, data: `{"n":${eventIndex}}` };
}

function block(height: number, parts: Partial<Omit<BlockCommit, 'block'>> = {}): BlockCommit {
  return {
    block: {
      height,
      hash: sha256Hex(`block ${height}`),
      header: `{"height":${height}}`,
      signature: 'ab'.repeat(64),
      txCount: parts.txs?.length ?? 0,
    },
    txs: parts.txs ?? [],
    writes: parts.writes ?? new Map<string, string | null>(),
    events: parts.events ?? [],
    ...(parts.meta ? { meta: parts.meta } : {}),
  };
}

function writes(entries: [string, string | null][]): WriteSet {
  return new Map(entries);
}

function allState(store: SqliteBlockStore): [string, string][] {
  return [...store.scan('')];
}

/** Rows of the events table at a height, read through a second connection. */
function eventsAt(
  file: string,
  height: number,
): { tx_index: number; event_index: number; type: string }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[number], { tx_index: number; event_index: number; type: string }>(
        'SELECT tx_index, event_index, type FROM events WHERE height = ? ORDER BY tx_index, event_index',
      )
      .all(height);
  } finally {
    db.close();
  }
}

/** A store holding blocks 0 and 1. */
function twoBlocks(): { store: SqliteBlockStore; file: string } {
  const file = newFile();
  const store = new SqliteBlockStore(file);
  store.commitBlock(
    block(0, {
      writes: writes([
        ['a/1', 'one'],
        ['a/2', 'two'],
      ]),
    }),
  );
  store.commitBlock(
    block(1, {
      txs: [tx(1, 0, 'first'), tx(1, 1, 'second')],
      writes: writes([
        ['a/2', 'TWO'],
        ['b/1', 'b'],
      ]),
      events: [event(1, -1, 0, 'hold.expired'), event(1, 0, 0), event(1, 1, 0), event(1, 1, 1)],
    }),
  );
  return { store, file };
}

describe('SqliteBlockStore', () => {
  it('starts empty at height -1', () => {
    const store = new SqliteBlockStore(newFile());
    assert.equal(store.lastHeight(), -1);
    assert.equal(store.getBlock(0), undefined);
    assert.equal(store.get('a'), undefined);
    assert.deepEqual(allState(store), []);
    store.close();
  });

  it('reads committed events after a position, up to a height, at most a limit', () => {
    const { store } = twoBlocks();
    store.commitBlock(block(2, { events: [event(2, -1, 0, 'hold.expired')] }));
    const positions = (after: [number, number, number], to: number, limit: number) =>
      store
        .getEvents({ height: after[0], txIndex: after[1], eventIndex: after[2] }, to, limit)
        .map((e) => [e.height, e.txIndex, e.eventIndex, e.type]);
    const all = [
      [1, -1, 0, 'hold.expired'],
      [1, 0, 0, 'test.event'],
      [1, 1, 0, 'test.event'],
      [1, 1, 1, 'test.event'],
      [2, -1, 0, 'hold.expired'],
    ];
    assert.deepEqual(positions([0, Number.MAX_SAFE_INTEGER, 0], 9, 100), all);
    // Paging: each page continues strictly after the last position read.
    assert.deepEqual(positions([0, Number.MAX_SAFE_INTEGER, 0], 9, 2), all.slice(0, 2));
    assert.deepEqual(positions([1, 0, 0], 9, 2), all.slice(2, 4));
    assert.deepEqual(positions([1, 1, 1], 9, 2), all.slice(4));
    // The height bound is inclusive; a limit of 0 reads nothing.
    assert.deepEqual(positions([0, Number.MAX_SAFE_INTEGER, 0], 1, 100), all.slice(0, 4));
    assert.deepEqual(positions([0, Number.MAX_SAFE_INTEGER, 0], 9, 0), []);
    store.close();
  });

  it('stores blocks, txs in block order, state writes and deletions, and events', () => {
    const { store, file } = twoBlocks();
    assert.equal(store.lastHeight(), 1);
    const one = block(1);
    assert.deepEqual(store.getBlock(1), { ...one.block, txCount: 2 });
    assert.deepEqual(store.getBlockByHash(one.block.hash)?.height, 1);
    assert.deepEqual(
      store.getBlocks(0, 5).map((b) => b.height),
      [0, 1],
    );
    assert.deepEqual(store.getTxHashes(1), [sha256Hex('first'), sha256Hex('second')]);
    assert.deepEqual(store.getTxs(1), [tx(1, 0, 'first'), tx(1, 1, 'second')]);
    assert.deepEqual(store.getTx(sha256Hex('second')), tx(1, 1, 'second'));
    assert.deepEqual(allState(store), [
      ['a/1', 'one'],
      ['a/2', 'TWO'],
      ['b/1', 'b'],
    ]);
    assert.deepEqual(
      eventsAt(file, 1).map((e) => [e.tx_index, e.event_index, e.type]),
      [
        [-1, 0, 'hold.expired'],
        [0, 0, 'test.event'],
        [1, 0, 'test.event'],
        [1, 1, 'test.event'],
      ],
    );

    store.commitBlock(
      block(2, {
        writes: writes([
          ['a/1', null],
          ['never-existed', null],
        ]),
      }),
    );
    assert.equal(store.get('a/1'), undefined);
    assert.deepEqual(allState(store), [
      ['a/2', 'TWO'],
      ['b/1', 'b'],
    ]);
    store.close();
  });

  describe('commitBlock is atomic', () => {
    const failures: [string, BlockCommit][] = [
      [
        'a tx hash already stored (fails after the block row)',
        block(2, {
          txs: [tx(2, 0, 'third'), tx(2, 1, 'first')],
          writes: writes([
            ['a/1', 'changed'],
            ['c/1', 'new'],
          ]),
          events: [event(2, 0, 0)],
        }),
      ],
      [
        'a duplicate event (fails after the state writes)',
        block(2, {
          txs: [tx(2, 0, 'third')],
          writes: writes([
            ['a/1', null],
            ['a/2', 'changed'],
            ['c/1', 'new'],
          ]),
          events: [event(2, 0, 0), event(2, 0, 0)],
        }),
      ],
      [
        'a block hash already stored',
        {
          ...block(2, { txs: [tx(2, 0, 'third')], writes: writes([['c/1', 'new']]) }),
          block: { ...block(1).block, height: 2 },
        },
      ],
    ];
    for (const [name, commit] of failures) {
      it(`leaves nothing of a block that fails midway: ${name}`, () => {
        const { store, file } = twoBlocks();
        const stateBefore = allState(store);
        assert.throws(() => store.commitBlock(commit), /UNIQUE constraint failed/);
        assert.equal(store.lastHeight(), 1);
        assert.equal(store.getBlock(2), undefined);
        assert.deepEqual(
          store.getBlocks(0, 10).map((b) => b.height),
          [0, 1],
        );
        assert.equal(store.getTx(sha256Hex('third')), undefined);
        assert.deepEqual(store.getTxHashes(2), []);
        assert.deepEqual(
          store.getTx(sha256Hex('first')),
          tx(1, 0, 'first'),
          'the earlier tx is untouched',
        );
        assert.deepEqual(allState(store), stateBefore);
        assert.deepEqual(eventsAt(file, 2), []);

        // The store is not wedged: the proper block 2 commits, and survives a reopen.
        store.commitBlock(
          block(2, {
            txs: [tx(2, 0, 'third')],
            writes: writes([['c/1', 'new']]),
            events: [event(2, 0, 0)],
          }),
        );
        assert.equal(store.lastHeight(), 2);
        store.close();
        const reopened = new SqliteBlockStore(file);
        assert.equal(reopened.lastHeight(), 2);
        assert.equal(reopened.get('c/1'), 'new');
        assert.equal(eventsAt(file, 2).length, 1);
        reopened.close();
      });
    }

    it('refuses a block that does not follow the last height, writing nothing', () => {
      const { store, file } = twoBlocks();
      const stateBefore = allState(store);
      for (const height of [1, 3, 0]) {
        assert.throws(
          () =>
            store.commitBlock(
              block(height, { txs: [tx(height, 0, 'x')], writes: writes([['z', 'z']]) }),
            ),
          /does not follow 1/,
        );
      }
      assert.equal(store.lastHeight(), 1);
      assert.equal(store.getTx(sha256Hex('x')), undefined);
      assert.deepEqual(allState(store), stateBefore);
      assert.deepEqual(eventsAt(file, 3), []);
      store.close();
    });
  });

  it('resumes at the last committed height after a reopen, with state and meta', () => {
    const { store, file } = twoBlocks();
    store.setMeta('chainId', 'coffer-test');
    store.close();
    const reopened = new SqliteBlockStore(file);
    assert.equal(reopened.lastHeight(), 1);
    assert.equal(reopened.getMeta('chainId'), 'coffer-test');
    assert.equal(reopened.get('a/2'), 'TWO');
    assert.deepEqual(reopened.getTxHashes(1), [sha256Hex('first'), sha256Hex('second')]);
    assert.throws(() => reopened.commitBlock(block(1)), /does not follow 1/);
    reopened.commitBlock(block(2));
    assert.equal(reopened.lastHeight(), 2);
    reopened.close();
    const again = new SqliteBlockStore(file);
    assert.equal(again.lastHeight(), 2);
    again.close();
  });

  it("writes meta entries in the block's own transaction, and none when the block fails", () => {
    const { store, file } = twoBlocks();
    store.commitBlock(block(2, { meta: { 'cluster.blockSeq': '7' } }));
    assert.equal(store.getMeta('cluster.blockSeq'), '7');
    // A block that does not follow is refused before anything is written, meta included.
    assert.throws(() => store.commitBlock(block(4, { meta: { 'cluster.blockSeq': '9' } })));
    assert.equal(store.getMeta('cluster.blockSeq'), '7');
    store.close();
    const reopened = new SqliteBlockStore(file);
    assert.equal(reopened.getMeta('cluster.blockSeq'), '7');
    reopened.close();
  });

  it('scans by prefix, in key order, without neighbours that merely sort nearby', () => {
    const store = new SqliteBlockStore(newFile());
    const keys = [
      'a',
      'a/',
      'a/b',
      'a/c/d',
      'a0',
      'a.',
      'ab',
      'b/x',
      'ledger/account/x',
      'ledger/asset/USD',
      '~',
    ];
    store.commitBlock(
      block(0, {
        writes: writes([...keys].reverse().map((k) => [k, `v:${k}`] as [string, string])),
      }),
    );
    const scanKeys = (prefix: string) => [...store.scan(prefix)].map(([key]) => key);
    assert.deepEqual(scanKeys('a/'), ['a/', 'a/b', 'a/c/d']);
    assert.deepEqual(scanKeys('a'), ['a', 'a.', 'a/', 'a/b', 'a/c/d', 'a0', 'ab']);
    assert.deepEqual(scanKeys('ledger/asset/'), ['ledger/asset/USD']);
    assert.deepEqual(scanKeys('ledger/'), ['ledger/account/x', 'ledger/asset/USD']);
    assert.deepEqual(scanKeys(''), [...keys].sort());
    assert.deepEqual(scanKeys('zz'), []);
    assert.deepEqual([...store.scan('b/')], [['b/x', 'v:b/x']]);
    store.close();
  });

  it('scan(prefix) equals filtering and sorting every key (property)', () => {
    const store = new SqliteBlockStore(newFile());
    const model = new Map<string, string>();
    let height = 0;
    const key = fc.string({
      unit: fc.constantFrom('a', 'b', '/', '0', '.', '~', 'Z'),
      minLength: 1,
      maxLength: 5,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.option(fc.string({ maxLength: 3 }), { nil: null })), {
          maxLength: 20,
        }),
        fc.string({ unit: fc.constantFrom('a', 'b', '/', '0', '~'), maxLength: 3 }),
        (entries, prefix) => {
          const writeSet: WriteSet = new Map(entries);
          store.commitBlock(block(height, { writes: writeSet }));
          height += 1;
          for (const [k, v] of writeSet) {
            if (v === null) model.delete(k);
            else model.set(k, v);
          }
          const expected = [...model.entries()]
            .filter(([k]) => k.startsWith(prefix))
            .sort(([a], [b]) => (a < b ? -1 : 1));
          assert.deepEqual([...store.scan(prefix)], expected);
        },
      ),
      { numRuns: 100 },
    );
    store.close();
  });
});

describe('SqliteBlockStore read cache', () => {
  it('serves what was committed, including a key read before it was written or deleted', () => {
    const file = newFile();
    const store = new SqliteBlockStore(file);
    assert.equal(store.get('k'), undefined, 'absent, and now cached as absent');
    store.commitBlock(block(0, { writes: new Map([['k', 'one']]) }));
    assert.equal(store.get('k'), 'one');
    store.commitBlock(block(1, { writes: new Map([['k', null]]) }));
    assert.equal(store.get('k'), undefined);
    // A block that fails to commit leaves the cache as it was.
    assert.throws(() => store.commitBlock(block(5, { writes: new Map([['k', 'never']]) })));
    assert.equal(store.get('k'), undefined);
    store.close();
    const reopened = new SqliteBlockStore(file);
    assert.equal(reopened.get('k'), undefined);
    reopened.close();
  });
});

describe('SqliteBlockStore read-only', () => {
  it('reads one snapshot while a writer commits, and never writes', () => {
    const file = newFile();
    const writer = new SqliteBlockStore(file);
    writer.commitBlock(block(0, { writes: writes([['k', 'zero']]) }));
    const reader = new SqliteBlockStore(file, { readonly: true });
    writer.commitBlock(block(1, { txs: [tx(1, 0, 'a')], writes: writes([['k', 'one']]) }));
    assert.equal(reader.lastHeight(), 0);
    assert.equal(reader.getBlock(1), undefined, 'a block committed after the snapshot is unseen');
    assert.deepEqual(reader.getTxs(1), []);
    assert.deepEqual(allState(reader), [['k', 'zero']]);
    assert.throws(() => reader.setMeta('m', 'x'), /readonly/);
    assert.throws(() => reader.commitBlock(block(1)), /readonly/);
    reader.close();
    const later = new SqliteBlockStore(file, { readonly: true });
    assert.equal(later.lastHeight(), 1, 'a new read-only store sees the newer head');
    later.close();
    writer.close();
  });

  it('refuses a file that is not a store rather than creating one', () => {
    const absent = newFile();
    fs.mkdirSync(path.dirname(absent), { recursive: true });
    assert.throws(() => new SqliteBlockStore(absent, { readonly: true }), /unable to open/);
    assert.ok(!fs.existsSync(absent), 'no store was created');
    const file = newFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    new Database(file).close();
    assert.throws(
      () => new SqliteBlockStore(file, { readonly: true }),
      /is not a Coffer store \(no meta, state, blocks, txs, events table\)/,
    );
  });
});

describe('SqliteBlockStore with a writer thread (the pipelined commit)', () => {
  /** Every row of every table, in a fixed order: two stores given the same blocks are equal. */
  function contents(file: string): unknown {
    const db = new Database(file, { readonly: true });
    try {
      return ['meta', 'state', 'blocks', 'txs', 'events'].map((table) =>
        db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all(),
      );
    } finally {
      db.close();
    }
  }

  function blocks(count: number): BlockCommit[] {
    return Array.from({ length: count }, (_, height) =>
      block(height, {
        txs: [tx(height, 0, `a${height}`), tx(height, 1, `b${height}`)],
        writes: writes([
          [`k/${height % 7}`, `"v${height}"`],
          [`n/${height}`, `${height}`],
          ...(height > 2 ? ([[`n/${height - 3}`, null]] as [string, null][]) : []),
        ]),
        events: [event(height, 0, 0), event(height, -1, 0, 'block.event')],
      }),
    );
  }

  it('hides a block until it is durable, then serves it; flush waits for the writer', async () => {
    const store = new SqliteBlockStore(newFile());
    const durable: number[] = [];
    store.onDurable((height) => durable.push(height));
    store.startWriter();
    assert.equal(store.pipelined, true);
    store.commitBlockLater(block(0, { writes: writes([['a', '"0"']]) }));
    store.commitBlockLater(block(1, { writes: writes([['a', '"1"']]) }));
    // Handed over, not yet durable: nothing of it can be read (nor leave the node).
    assert.deepEqual(durable, []);
    assert.equal(store.lastHeight(), -1);
    assert.equal(store.get('a'), undefined);
    assert.equal(store.getBlock(0), undefined);
    // The next block must follow the last one handed over, not the last durable one.
    assert.throws(() => store.commitBlockLater(block(1)), /does not follow 1/);
    await new Promise<void>((resolve) => {
      const poll = () => (durable.length === 2 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    assert.deepEqual(durable, [0, 1]);
    assert.equal(store.lastHeight(), 1);
    assert.equal(store.get('a'), '"1"');
    store.commitBlockLater(block(2, { writes: writes([['a', '"2"']]) }));
    store.flush();
    assert.deepEqual(durable, [0, 1, 2]);
    assert.equal(store.get('a'), '"2"');
    store.close();
  });

  it('stores exactly what a store committing in place stores', () => {
    const inPlace = newFile();
    const piped = newFile();
    const a = new SqliteBlockStore(inPlace);
    const b = new SqliteBlockStore(piped);
    b.startWriter();
    for (const commit of blocks(40)) {
      a.commitBlock(commit);
      b.commitBlockLater(commit);
    }
    // A commit in place on a pipelined store goes through the writer too, after the others.
    a.commitBlock(block(40, { meta: { m: '1' }, writes: writes([['z', '"z"']]) }));
    b.commitBlock(block(40, { meta: { m: '1' }, writes: writes([['z', '"z"']]) }));
    assert.equal(b.get('z'), '"z"');
    a.close();
    b.close();
    assert.deepEqual(contents(piped), contents(inPlace));
  });

  it('checkpoints the WAL into the database off the main connection', async () => {
    const file = newFile();
    const store = new SqliteBlockStore(file);
    store.startWriter();
    const sizeBefore = fs.statSync(file).size;
    const value = `"${'x'.repeat(200)}"`;
    for (let height = 0; height < 20; height += 1) {
      const entries: [string, string][] = [];
      for (let i = 0; i < 200; i += 1) entries.push([`big/${height}/${i}`, value]);
      store.commitBlockLater(block(height, { writes: writes(entries) }));
    }
    store.flush();
    // The main connection never checkpoints (wal_autocheckpoint = 0 on the writer): the data
    // reaches the database file only through the writer thread's second connection.
    const deadline = Date.now() + 30_000;
    while (fs.statSync(file).size < sizeBefore + 20 * 200 * 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(fs.statSync(file).size >= sizeBefore + 20 * 200 * 200, 'the WAL was checkpointed');
    store.close();
  });

  it('stops at a block the writer cannot store: told once, nothing after it is durable', async () => {
    const store = new SqliteBlockStore(newFile());
    const failures: Error[] = [];
    const durable: number[] = [];
    store.onWriterFailure((error) => failures.push(error));
    store.onDurable((height) => durable.push(height));
    store.startWriter();
    store.commitBlockLater(block(0, { txs: [tx(0, 0, 'same')] }));
    // The same tx hash twice breaks the tx table's unique index: the writer's transaction fails.
    store.commitBlockLater(block(1, { txs: [tx(1, 0, 'same')] }));
    assert.throws(() => store.flush(), /writer thread failed/);
    await new Promise<void>((resolve) => {
      const poll = () => (failures.length > 0 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.message, /UNIQUE/);
    assert.deepEqual(durable, [0]);
    assert.equal(store.lastHeight(), 0);
    assert.equal(store.getBlock(1), undefined);
    assert.throws(() => store.commitBlockLater(block(2)), /writer thread failed|follow/);
    store.close();
  });
});
