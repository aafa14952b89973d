// The coffer CLI as a user runs it: the built dist/src/cli/main.js in its own process, against a
// node in another, with a keystore in a temporary COFFER_HOME. Build first (npm test does):
// npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signTx, txs, type CofferClient, type SigningKey } from '../src/sdk/index.js';
import { CliSession, describeRun, type TxJson } from './support/cli.js';

const passphrase = 'correct horse battery staple';
const blockIntervalMs = 20;
const startTimeoutMs = 15_000;
const runTimeoutMs = 30_000;
// The suite runs some 25 commands one after another; a machine shared with other work needs room.
const suiteTimeoutMs = 180_000;
const hashPattern = /^[0-9a-f]{64}$/;

const cli = new CliSession({ name: 'cli', passphrase, runTimeoutMs });
const { run, ok, okJson, refused } = cli;
let client: CofferClient;
let dev: SigningKey;
const addresses: Record<string, string> = {};

interface BalanceJson {
  address: string;
  nonce: number;
  balances: { asset: string; amount: string; held: string }[];
}

const balance = (who: string) => okJson<BalanceJson>(['balance', who]);

function usd(json: BalanceJson): { amount: string; held: string } | undefined {
  const found = json.balances.find((b) => b.asset === 'USD');
  return found && { amount: found.amount, held: found.held };
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A proxy to the node that lets `rewrite` change the JSON of any answer. */
async function proxy(
  rewrite: (requestUrl: string, body: Record<string, unknown>) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    void (async () => {
      const upstream = await fetch(cli.url + request.url!, { method: request.method ?? 'GET' });
      const body = (await upstream.json()) as Record<string, unknown>;
      rewrite(request.url!, body);
      response.writeHead(upstream.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    })().catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('coffer CLI against a node process', { timeout: suiteTimeoutMs }, () => {
  before(async () => {
    await cli.start({ blockIntervalMs, startTimeoutMs });
    ({ client } = cli);
    dev = cli.readDevKey();
  });

  after(() => cli.close());

  it('imports, creates, lists, shows and exports keys, in 0600 files in a 0700 directory', async () => {
    const imported = await okJson(['keys', 'import', 'dev'], { input: `${dev.secretKey}\n` });
    assert.deepEqual(imported, { name: 'dev', address: dev.address });
    addresses.dev = dev.address;
    const created = await Promise.all(
      ['alice', 'bob'].map((name) =>
        okJson<{ name: string; address: string }>(['keys', 'new', name]),
      ),
    );
    for (const key of created) {
      assert.match(key.address, /^cof1[a-z0-9]{58}$/);
      addresses[key.name] = key.address;
    }
    assert.notEqual(addresses.alice, addresses.bob);

    const listed = await okJson<{ keys: { name: string; address: string }[] }>(['keys', 'list']);
    assert.deepEqual(listed.keys, [
      { name: 'alice', address: addresses.alice },
      { name: 'bob', address: addresses.bob },
      { name: 'dev', address: dev.address },
    ]);
    const human = await ok(['keys', 'show', 'alice']);
    assert.match(human, new RegExp(`^address\\s+${addresses.alice}$`, 'm'));

    const keysDir = path.join(cli.home, 'keys');
    assert.equal(fs.statSync(keysDir).mode & 0o777, 0o700);
    for (const name of ['dev', 'alice', 'bob']) {
      const file = path.join(keysDir, `${name}.json`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, file);
    }
    assert.ok(
      !fs.readFileSync(path.join(keysDir, 'dev.json'), 'utf8').includes(dev.secretKey),
      'the key file does not hold the secret in clear',
    );

    await refused(['keys', 'new', 'alice'], 'key_exists');
    await refused(['keys', 'new', 'Alice'], 'invalid_key_name');
    const exported = await run(['keys', 'export', 'dev']);
    assert.equal(exported.code, 0, describeRun(['keys', 'export', 'dev'], exported));
    assert.equal(exported.stdout, `${dev.secretKey}\n`);
    assert.match(exported.stderr, /warning: this is the secret key of dev/);
  });

  it('refuses a wrong or missing passphrase before anything is sent, and prints no secret', async () => {
    const wrong = { env: { COFFER_PASSPHRASE: 'not the passphrase' } };
    const [send, exported, missing] = await Promise.all([
      refused(['send', '1', 'USD', '--to', 'alice', '--from', 'dev'], 'wrong_passphrase', wrong),
      refused(['keys', 'export', 'dev'], 'wrong_passphrase', wrong),
      // stdin is a pipe here, so there is no terminal to prompt on.
      refused(['send', '1', 'USD', '--to', 'alice', '--from', 'dev'], 'passphrase_required', {
        env: { COFFER_PASSPHRASE: undefined },
      }),
    ]);
    assert.equal(send.stderr, 'coffer: wrong_passphrase: the passphrase does not unlock key dev\n');
    assert.equal(exported.stdout, '');
    assert.ok(!exported.stderr.includes(dev.secretKey));
    assert.match(missing.stderr, /set COFFER_PASSPHRASE or run in a terminal/);
    assert.equal((await client.getAccount(dev.address)).nonce, 0, 'no tx was sent');
  });

  it('refuses an unknown name wherever an address or a key is expected', async () => {
    const results = await Promise.all([
      refused(['balance', 'nobody'], 'unknown_key'),
      refused(['send', '1', 'USD', '--to', 'nobody', '--from', 'dev'], 'unknown_key'),
      refused(['send', '1', 'USD', '--to', 'alice', '--from', 'nobody'], 'unknown_key'),
      refused(['keys', 'show', 'nobody'], 'unknown_key'),
    ]);
    for (const result of results) assert.match(result.stderr, /no key named nobody/);
    assert.equal((await client.getAccount(dev.address)).nonce, 0);
  });

  it('creates an asset and mints it, amounts in the asset units', async () => {
    const created = await okJson<TxJson>([
      'asset',
      'create',
      'GOLD',
      '--decimals',
      '3',
      '--max-supply',
      '1000',
      '--from',
      'alice',
    ]);
    assert.match(created.hash, hashPattern);
    assert.equal(created.status, 'ok');
    assert.equal(typeof created.height, 'number');
    const asset = await client.getAsset('GOLD');
    assert.deepEqual(
      { decimals: asset.decimals, maxSupply: asset.maxSupply, issuer: asset.issuer },
      { decimals: 3, maxSupply: '1000000', issuer: addresses.alice },
    );

    const minted = await ok(['mint', '12.5', 'GOLD', '--to', 'bob', '--from', 'alice']);
    assert.match(minted, /^minted 12\.500 GOLD to cof1/);
    assert.deepEqual((await balance('bob')).balances, [
      { asset: 'GOLD', amount: '12.500', held: '0.000' },
    ]);

    const over = await refused(
      ['mint', '1000', 'GOLD', '--to', 'bob', '--from', 'alice', '--json'],
      'max_supply_exceeded',
    );
    const outcome = JSON.parse(over.stdout) as TxJson;
    assert.equal(outcome.status, 'max_supply_exceeded');
    assert.equal(typeof outcome.height, 'number');
    assert.equal((await client.getAsset('GOLD')).supply, '12500');
  });

  it('sends, and balance --json prints the documented shape', async () => {
    const sent = await okJson<TxJson>(['send', '100', 'USD', '--to', 'alice', '--from', 'dev']);
    assert.equal(sent.status, 'ok');
    const human = await ok(['send', '25.5', 'USD', '--to', 'bob', '--from', 'alice']);
    assert.match(human, /^sent 25\.50 USD to cof1/);
    assert.match(human, /^status\s+ok$/m);
    // alice: asset create, mint, the mint that failed, this send.
    assert.deepEqual(await balance('alice'), {
      address: addresses.alice,
      nonce: 4,
      balances: [{ asset: 'USD', amount: '74.50', held: '0.00' }],
    });
    assert.deepEqual(await balance(addresses.bob!), {
      address: addresses.bob,
      nonce: 0,
      balances: [
        { asset: 'GOLD', amount: '12.500', held: '0.000' },
        { asset: 'USD', amount: '25.50', held: '0.00' },
      ],
    });
    const table = await ok(['balance', 'alice']);
    assert.match(table, /^USD\s+74\.50\s+0\.00$/m);

    const [tooPrecise, notAnAmount, zero] = await Promise.all([
      refused(['send', '1.005', 'USD', '--to', 'bob', '--from', 'alice'], 'invalid_amount'),
      refused(['send', '1,5', 'USD', '--to', 'bob', '--from', 'alice'], 'invalid_amount'),
      refused(['send', '0', 'USD', '--to', 'bob', '--from', 'alice'], 'invalid_amount'),
    ]);
    assert.match(tooPrecise.stderr, /3 digits after the point, and USD has 2 decimals/);
    assert.match(notAnAmount.stderr, /not an amount/);
    assert.match(zero.stderr, /more than 0/);
    assert.equal((await balance('alice')).nonce, 4, 'refused amounts send nothing');
  });

  it('insufficient funds: exit 1 with the reason; the tx is in a block, only its nonce spent', async () => {
    const args = ['send', '1000', 'USD', '--to', 'bob', '--from', 'alice'];
    const asJson = await refused([...args, '--json'], 'insufficient_funds');
    const outcome = JSON.parse(asJson.stdout) as TxJson;
    assert.match(outcome.hash, hashPattern);
    assert.equal(outcome.status, 'insufficient_funds');
    assert.equal(typeof outcome.height, 'number');
    assert.match(
      asJson.stderr,
      new RegExp(`tx ${outcome.hash}, included at height ${outcome.height}`),
    );
    const looked = await client.getTx(outcome.hash);
    assert.equal(looked.receipt?.status, 'insufficient_funds');

    const plain = await refused(args, 'insufficient_funds');
    assert.equal(plain.stdout, '');
    assert.deepEqual(await balance('alice'), {
      address: addresses.alice,
      nonce: 6,
      balances: [{ asset: 'USD', amount: '74.50', held: '0.00' }],
    });
  });

  it('holds: create, post part of one, void another; release a hash-locked one', async () => {
    const hold = ['hold', 'create', '10', 'USD', '--to', 'bob', '--from', 'alice'];
    const first = await okJson<TxJson>([...hold, '--expires-in-blocks', '1000']);
    assert.equal(first.status, 'ok');
    assert.deepEqual(usd(await balance('alice')), { amount: '64.50', held: '10.00' });

    // Only the payee (or an arbiter) posts: the payer cannot take it back.
    const forbidden = await refused(
      ['hold', 'post', first.hash, '--from', 'alice'],
      'hold_forbidden',
    );
    assert.match(forbidden.stderr, /included at height/);
    await refused(['hold', 'post', first.hash, '4', 'GOLD', '--from', 'bob'], 'asset_mismatch');
    await ok(['hold', 'post', first.hash, '4', 'USD', '--from', 'bob']);
    assert.deepEqual(usd(await balance('alice')), { amount: '70.50', held: '0.00' });
    assert.deepEqual(usd(await balance('bob')), { amount: '29.50', held: '0.00' });

    const height = (await client.health()).height;
    const second = await okJson<TxJson>([...hold, '--expires-at-height', String(height + 500)]);
    assert.deepEqual(usd(await balance('alice')), { amount: '60.50', held: '10.00' });
    await ok(['hold', 'void', second.hash, '--from', 'bob']);
    assert.deepEqual(usd(await balance('alice')), { amount: '70.50', held: '0.00' });

    const preimage = randomBytes(16).toString('hex');
    const condition = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');
    const locked = await okJson<TxJson>([
      'hold',
      'create',
      '3',
      'USD',
      '--to',
      'bob',
      '--from',
      'alice',
      '--expires-in-blocks',
      '1000',
      '--condition',
      condition,
    ]);
    await refused(
      ['hold', 'release', locked.hash, '--preimage', 'ab'.repeat(16), '--from', 'dev'],
      'preimage_mismatch',
    );
    // Anyone who holds the preimage releases it: here the dev account, neither payer nor payee.
    await ok(['hold', 'release', locked.hash, '--preimage', preimage, '--from', 'dev']);
    assert.deepEqual(usd(await balance('bob')), { amount: '32.50', held: '0.00' });
    assert.deepEqual(usd(await balance('alice')), { amount: '67.50', held: '0.00' });
  });

  it('tx show and block show, as JSON and as text', async () => {
    const sent = await okJson<TxJson>(['send', '1', 'USD', '--to', 'bob', '--from', 'alice']);
    const [shown, text, block, latest] = await Promise.all([
      okJson<{ hash: string; height: number; tx: { type: string }; receipt: { status: string } }>([
        'tx',
        'show',
        sent.hash,
      ]),
      ok(['tx', 'show', sent.hash]),
      okJson<{ height: number; txs: string[]; header: { height: number } }>([
        'block',
        'show',
        String(sent.height),
      ]),
      ok(['block', 'show', 'latest']),
    ]);
    assert.equal(shown.hash, sent.hash);
    assert.equal(shown.height, sent.height);
    assert.equal(shown.tx.type, 'ledger.transfer');
    assert.equal(shown.receipt.status, 'ok');
    assert.match(text, new RegExp(`^tx\\s+${sent.hash}$`, 'm'));
    assert.match(text, /^type\s+ledger\.transfer$/m);
    assert.match(text, /^\s+amount\s+100$/m);
    assert.equal(block.header.height, sent.height);
    assert.ok(block.txs.includes(sent.hash));
    assert.match(latest, /^producer\s+cof1/m);
    await Promise.all([
      refused(['tx', 'show', '0'.repeat(64)], 'tx_not_found'),
      refused(['block', 'show', '99999999'], 'block_not_found'),
      refused(['tx', 'show', 'xyz'], 'invalid_hex'),
    ]);
  });

  it('verify tx checks the proof offline and rejects a tampered one', async () => {
    // Three txs in one block, so the Merkle path has steps to tamper with.
    const { nonce } = await client.getAccount(dev.address);
    const signed = [0, 1, 2].map((i) =>
      signTx(
        {
          chainId: 'coffer-dev',
          sender: dev.address,
          nonce: nonce + i,
          ...txs.transfer({ to: addresses.bob!, asset: 'USD', amount: String(i + 1) }),
        },
        dev,
      ),
    );
    const batch = await client.submitBatch(signed, { wait: 'commit' });
    const hashes = batch.results.map((r) => (r as { hash: string }).hash);
    const lookups = await Promise.all(hashes.map((h) => client.getTx(h)));
    const index = lookups.findIndex((l) => (l.proof?.treeSize ?? 0) > 1);
    assert.ok(index >= 0, 'two of the three txs share a block');
    const hash = hashes[index]!;
    const other = hashes[(index + 1) % hashes.length]!;

    const verified = await ok(['verify', 'tx', hash]);
    assert.match(
      verified,
      new RegExp(
        `^ok: tx ${hash} is in block \\d+, outcome ok; signed by cof1\\w+ with a committed nonce`,
      ),
    );
    const waived = await ok(['verify', 'tx', hash, '--no-receipt']);
    assert.match(waived, /its outcome was not checked \(--no-receipt\)/);

    const saved = path.join(cli.workDir, 'proof.json');
    fs.writeFileSync(saved, await ok(['tx', 'show', hash, '--json']));
    await ok(['verify', 'tx', hash, '--proof-file', saved]);
    // With a light-client state saved by verify chain, a saved proof is checked with no node.
    const trustFile = path.join(cli.workDir, 'trust.json');
    await ok(['verify', 'chain', '--save-trust', trustFile]);
    const down = `http://127.0.0.1:${await closedPort()}`;
    const offline = await ok(['verify', 'tx', hash, '--proof-file', saved, '--trust', trustFile], {
      nodeUrl: down,
    });
    assert.match(offline, /outcome ok/);
    const proof = JSON.parse(fs.readFileSync(saved, 'utf8')) as {
      tx: { payload: { amount: string } };
      block: { header: { txRoot: string }; signature: { nonceProof?: { R: string } } };
      proof: { path: string[]; treeSize: number };
      receipt?: unknown;
      receiptProof?: unknown;
    };
    assert.ok(proof.proof.path.length > 0, 'the block holds more than one tx');

    const tamper = (name: string, change: (copy: typeof proof) => void) => {
      const copy = structuredClone(proof);
      change(copy);
      const file = path.join(cli.workDir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(copy));
      return file;
    };
    const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    const [pathFile, amountFile, rootFile, sizeFile, bareFile, nonceFile] = [
      tamper('path', (c) => (c.proof.path[0] = flip(c.proof.path[0]!))),
      tamper('amount', (c) => (c.tx.payload.amount = '1000000')),
      tamper('root', (c) => (c.block.header.txRoot = flip(c.block.header.txRoot))),
      tamper('size', (c) => (c.proof.treeSize += 1)),
      tamper('bare', (c) => {
        delete c.receipt;
        delete c.receiptProof;
      }),
      tamper('nonce', (c) => delete c.block.signature.nonceProof),
    ];
    const trusted = ['--trust', trustFile];
    const [bySize, byBare, byNonce, bareWaived] = await Promise.all([
      refused(['verify', 'tx', hash, '--proof-file', sizeFile, ...trusted], 'verification_failed'),
      refused(['verify', 'tx', hash, '--proof-file', bareFile, ...trusted], 'verification_failed'),
      refused(['verify', 'tx', hash, '--proof-file', nonceFile, ...trusted], 'verification_failed'),
      ok(['verify', 'tx', hash, '--proof-file', bareFile, ...trusted, '--no-receipt']),
    ]);
    assert.match(bySize.stdout, /the Merkle proof is for a tree of \d+ txs, the block holds \d+/);
    assert.match(byBare.stdout, /the bundle has no receipt/);
    assert.match(byNonce.stdout, /carries no nonce proof/);
    assert.match(bareWaived, /its outcome was not checked/);
    const [byPath, byAmount, byRoot, asJson] = await Promise.all([
      refused(['verify', 'tx', hash, '--proof-file', pathFile], 'verification_failed'),
      refused(['verify', 'tx', hash, '--proof-file', amountFile], 'verification_failed'),
      refused(['verify', 'tx', hash, '--proof-file', rootFile], 'verification_failed'),
      refused(['verify', 'tx', hash, '--proof-file', pathFile, '--json'], 'verification_failed'),
    ]);
    assert.match(byPath.stdout, /the Merkle proof does not lead to the block's txRoot/);
    assert.match(byAmount.stdout, /the tx does not hash to the claimed hash/);
    assert.match(byRoot.stdout, /the hash does not match the header/);
    const verdict = JSON.parse(asJson.stdout) as { ok: boolean; problems: string[] };
    assert.equal(verdict.ok, false);
    assert.ok(verdict.problems.length > 0);
    // The proof of another tx is not the proof of this one.
    const wrongTx = await refused(
      ['verify', 'tx', other, '--proof-file', saved],
      'verification_failed',
    );
    assert.match(wrongTx.stdout, /the proof is for tx/);
  });

  it('verify chain checks every header, from 0 or from a height, and catches a forged one', async () => {
    const whole = await okJson<{ ok: boolean; from: number; to: number; headers: number }>([
      'verify',
      'chain',
    ]);
    assert.equal(whole.ok, true);
    assert.equal(whole.from, 0);
    assert.equal(whole.headers, whole.to + 1);
    assert.ok(whole.to > 10, `the chain has grown: head ${whole.to}`);
    const part = await ok(['verify', 'chain', '--from', '5']);
    assert.match(
      part,
      /^ok: \d+ headers from 0 to \d+ link up, each signed with a nonce its producer committed on the chain \(1 producers; checked from 5; anchored at block 0 as the node answered it/,
    );

    // A node that lies about one header's state root: the hash no longer matches the header.
    const forged = await proxy((requestUrl, body) => {
      if (!requestUrl.startsWith('/v1/blocks?')) return;
      const blocks = body.blocks as { header: { height: number; stateRoot: string } }[];
      const target = blocks.find((b) => b.header.height === 3);
      if (target) target.header.stateRoot = 'f'.repeat(64);
    });
    try {
      const caught = await refused(['verify', 'chain'], 'verification_failed', {
        nodeUrl: forged.url,
      });
      assert.match(caught.stdout, /block 3: the hash does not match the header/);
    } finally {
      await forged.close();
    }
    // A node that lies about the genesis document (a balance the chain never had): the state
    // root recomputed from it is not block 0's.
    const lyingGenesis = await proxy((requestUrl, body) => {
      if (requestUrl !== '/v1/genesis') return;
      const balances = body.balances as { amount: string }[];
      balances[0]!.amount = '1';
    });
    try {
      const caught = await refused(['verify', 'chain'], 'verification_failed', {
        nodeUrl: lyingGenesis.url,
      });
      assert.match(
        caught.stdout,
        /the genesis document: it gives state root [0-9a-f]{64}, block 0 carries/,
      );
    } finally {
      await lyingGenesis.close();
    }
    // A node that shows a header signed with another nonce than the committed one.
    const lyingNonce = await proxy((requestUrl, body) => {
      if (!requestUrl.startsWith('/v1/blocks?')) return;
      const blocks = body.blocks as {
        header: { height: number };
        signature: { nonceProof: { R: string } };
      }[];
      const target = blocks.find((b) => b.header.height === 4);
      if (target) target.signature.nonceProof.R = 'ab'.repeat(32);
    });
    try {
      const caught = await refused(['verify', 'chain', '--json'], 'verification_failed', {
        nodeUrl: lyingNonce.url,
      });
      const verdict = JSON.parse(caught.stdout) as { failed: string[]; problems: string[] };
      assert.deepEqual(verdict.failed, ['nonce_proof']);
      assert.match(verdict.problems[0]!, /^block 4: the nonce proof is for another nonce/);
    } finally {
      await lyingNonce.close();
    }
    // Block 0 pinned to another hash: nothing else is trusted.
    const pinned = await refused(
      ['verify', 'chain', '--genesis', 'ab'.repeat(32)],
      'verification_failed',
    );
    assert.match(pinned.stdout, /block 0 is [0-9a-f]{64}, not the pinned abab/);
  });

  it('refuses an address typo, an unknown name and a payment to oneself before unlocking the key, naming --to', async () => {
    const bob = addresses.bob!;
    // One character changed in the middle: the bech32m checksum no longer matches.
    const typo = bob.slice(0, 20) + (bob[20] === 'q' ? 'p' : 'q') + bob.slice(21);
    // No passphrase at all: a refusal that came after unlocking would be passphrase_required.
    const locked = { env: { COFFER_PASSPHRASE: undefined } };
    const { nonce } = await client.getAccount(addresses.alice!);
    const send = (to: string, ...more: string[]) =>
      refused(
        ['send', '1', 'USD', '--to', to, '--from', 'alice', ...more],
        'invalid_address',
        locked,
      );
    const [checksum, short, upper, notAName] = await Promise.all([
      send(typo),
      send(bob.slice(0, 50)),
      send(bob.toUpperCase()),
      send('Bob'),
    ]);
    assert.equal(
      checksum.reason,
      `--to ${typo} is not an address: its checksum does not match, so a character in it is wrong or missing`,
    );
    assert.match(
      short.reason,
      /^--to cof1\w+ is not an address: an address has 62 characters, this one 50$/,
    );
    assert.match(upper.reason, /is not an address: addresses are written in lowercase$/);
    assert.match(
      notAName.reason,
      /^--to Bob is not an address: an address starts with cof1, and a key name is/,
    );
    const [unknownName, arbiter, self, selfHold] = await Promise.all([
      refused(['send', '1', 'USD', '--to', 'bobb', '--from', 'alice'], 'unknown_key', locked),
      refused(
        [
          'hold',
          'create',
          '1',
          'USD',
          '--to',
          'bob',
          '--from',
          'alice',
          '--expires-in-blocks',
          '9',
        ].concat(['--arbiter', typo]),
        'invalid_address',
        locked,
      ),
      refused(
        ['send', '1', 'USD', '--to', 'alice', '--from', 'alice'],
        'accounts_must_be_different',
        locked,
      ),
      refused(
        [
          'hold',
          'create',
          '1',
          'USD',
          '--to',
          addresses.alice!,
          '--from',
          'alice',
          '--expires-in-blocks',
          '9',
        ],
        'accounts_must_be_different',
        locked,
      ),
    ]);
    assert.match(
      unknownName.reason,
      /^--to bobb: no key named bobb in .* \(see coffer keys list\)/,
    );
    assert.match(arbiter.reason, new RegExp(`^--arbiter ${typo} is not an address: its checksum`));
    for (const result of [self, selfHold]) {
      assert.equal(
        result.reason,
        `--to is ${addresses.alice}, the address of --from alice itself: the payer and the payee must be different accounts`,
      );
    }
    assert.equal((await client.getAccount(addresses.alice!)).nonce, nonce, 'nothing was sent');
  });

  it('says which node it could not reach, and refuses a bad command line with exit 2', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const [unreachable, unknown, missing] = await Promise.all([
      refused(['balance', 'alice'], 'network_error', { nodeUrl: down }),
      refused(['sned', '1'], 'usage', { exitCode: 2 }),
      refused(['send', '1', 'USD', '--to', 'bob'], 'usage', { exitCode: 2 }),
    ]);
    assert.match(unreachable.stderr, new RegExp(`cannot reach the node at ${down}`));
    assert.match(unknown.stderr, /unknown command sned/);
    assert.match(missing.stderr, /--from is required/);
  });
});
