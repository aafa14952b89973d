import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { createCli } from '../../cli/app.js';
import type { CliIo } from '../../cli/terminal.js';
import { fromHex, publicKeyFromAddress, sign, toHex } from '../../crypto/index.js';
import { generateKey, signTx, txs } from '../../sdk/index.js';
import {
  licensingTxBuilders,
  registrationMessage,
  type AgreementView,
  type ContentView,
  type TitleView,
} from './client.js';

/*
 * `coffer content ...`, `coffer licence ...` and `coffer verify title` through the CLI's own entry
 * point against a real node in this process: a creator registers a file by its SHA-256, assigns
 * the rights to a publisher keeping 10%, who assigns them to a distributor keeping 5%; the
 * distributor offers a licence from a policy file, a buyer accepts it and the price splits along
 * the chain of title to the unit; the chain of title verifies online and from a saved file, and a
 * saved file with a changed share, a removed assignment or a flipped proof byte is refused.
 */

const passphrase = 'licensing cli test passphrase';
const words = (line: string) => line.split(' ');

describe('coffer content, licence and verify title', () => {
  let t: TestNode;
  let home: string;
  const saved = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };
  const cli = createCli();
  const addresses: Record<string, string> = {};
  const contentKey = generateKey();
  const publisher = generateKey();
  const contentBytes = randomBytes(5_000);
  const contentId = createHash('sha256').update(contentBytes).digest('hex');

  async function run(args: string[], nodeUrl = t.url) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
    const code = await cli.run([...args, '--node', nodeUrl], io);
    return { code, out, err };
  }

  async function ok(args: string[]) {
    const result = await run(args);
    assert.equal(result.code, 0, `coffer ${args.join(' ')}: ${result.err}`);
    return result.out;
  }

  const file = (name: string, text: string | Uint8Array) => {
    const where = path.join(home, name);
    fs.writeFileSync(where, text);
    return where;
  };

  const balance = async (name: string) =>
    (await t.client.getAccount(addresses[name]!)).balances.find((b) => b.asset === 'LIC')
      ?.balance ?? '0';

  before(async () => {
    t = await startTestNode('licensing-cli');
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-licensing-cli-home-'));
    process.env.COFFER_HOME = home;
    process.env.COFFER_PASSPHRASE = passphrase;
    for (const name of ['creator', 'distributor', 'buyer', 'eve']) {
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const io = {
        stdin: new PassThrough(),
        stdout,
        stderr: new PassThrough(),
      } as unknown as CliIo;
      assert.equal(await cli.run(['keys', 'new', name, '--json'], io), 0);
      addresses[name] = (JSON.parse(out) as { address: string }).address;
    }
    // The publisher's key is known here too: its assignment goes in a batch (below).
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
    const imported = ['keys', 'import', 'publisher', '--secret', publisher.secretKey];
    assert.equal(await cli.run(imported, io as unknown as CliIo), 0);
    addresses.publisher = publisher.address;
  });

  after(async () => {
    await t.close();
    fs.rmSync(home, { recursive: true, force: true });
    for (const [key, value] of [
      ['COFFER_HOME', saved.home],
      ['COFFER_PASSPHRASE', saved.passphrase],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('registers, assigns, offers and sells; the price splits along the chain of title', async () => {
    const publicKey = toHex(publicKeyFromAddress(contentKey.address));
    const video = file('film.webm', contentBytes);
    // The content key's registration proof for the creator, as a gateway answers it at upload.
    const { chainId } = await t.client.health();
    const proofFor = (owner: string) =>
      toHex(sign(registrationMessage(chainId, contentId, owner), fromHex(contentKey.secretKey)));
    await ok([
      ...words('content register'),
      video,
      '--title',
      'A short film',
      '--public-key',
      publicKey,
      '--proof',
      proofFor(addresses.creator!),
      '--from',
      'creator',
    ]);
    const shown = JSON.parse(await ok(['content', 'show', contentId, '--json'])) as ContentView;
    assert.deepEqual(
      [shown.content.owner, shown.content.holder, shown.content.size, shown.content.mediaType],
      [addresses.creator, addresses.creator, contentBytes.length, 'video/webm'],
    );
    // Registered once: the same bytes again are refused with the node's code.
    const again = await run([
      ...words('content register'),
      video,
      '--title',
      'Again',
      '--public-key',
      publicKey,
      '--proof',
      proofFor(addresses.eve!),
      '--from',
      'eve',
    ]);
    assert.equal(again.code, 1);
    assert.match(again.err, /content_exists/);

    // The CLI signs the next position (read from the node); another is refused by the chain.
    const wrongIndex = await run(
      words(`content assign ${contentId} --to publisher --share 1000 --index 2 --from creator`),
    );
    assert.equal(wrongIndex.code, 1);
    assert.match(wrongIndex.err, /title_index_mismatch/);
    await ok(words(`content assign ${contentId} --to publisher --share 1000 --from creator`));
    // Only the holder assigns: the creator no longer is.
    const stale = await run(words(`content assign ${contentId} --to eve --share 0 --from creator`));
    assert.equal(stale.code, 1);
    // The second assignment shares its block with two transfers, so its Merkle proof has a path
    // (the tampering test below flips a byte of it).
    const [mine, dev] = await Promise.all([
      t.client.getAccount(publisher.address),
      t.client.getAccount(t.dev.address),
    ]);
    const batch = await t.client.submitBatch(
      [
        signTx(
          {
            chainId,
            sender: publisher.address,
            nonce: mine.nonce,
            ...licensingTxBuilders.assign(contentId, addresses.distributor!, 500, 2),
          },
          publisher,
        ),
        ...[0, 1].map((i) =>
          signTx(
            {
              chainId,
              sender: t.dev.address,
              nonce: dev.nonce + i,
              ...txs.transfer({ to: addresses.eve!, asset: 'USD', amount: '1' }),
            },
            t.dev,
          ),
        ),
      ],
      { wait: 'commit' },
    );
    assert.deepEqual(
      batch.results.map((r) => (r as { status: string }).status),
      ['ok', 'ok', 'ok'],
    );
    assert.match(await ok(words(`content list --holder distributor`)), /A short film/);
    assert.match(
      await ok(words(`content title ${contentId}`)),
      new RegExp(`^holder: ${addresses.distributor}$`, 'm'),
    );

    await ok(words('asset create LIC --decimals 2 --from distributor'));
    await ok(words('mint 100.00 LIC --to buyer --from distributor'));
    const policy = file(
      'policy.json',
      JSON.stringify({
        permission: [
          {
            action: 'play',
            constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 3 }],
          },
        ],
        duty: [{ action: 'compensate', payAmount: '1999', unit: 'LIC' }],
      }),
    );
    await ok(words(`licence offer ${contentId} rent-3 --policy ${policy} --from distributor`));
    const bad = file('bad.json', JSON.stringify({ permission: [] }));
    assert.equal(
      (await run(words(`licence offer ${contentId} x --policy ${bad} --from distributor`))).code,
      1,
    );
    assert.match(await ok(words(`licence show ${contentId} rent-3`)), /play \(at most 3 times\)/);
    const odrl = JSON.parse(await ok(words(`licence show ${contentId} rent-3 --odrl`))) as Record<
      string,
      unknown
    >;
    assert.equal(odrl['@context'], 'http://www.w3.org/ns/odrl.jsonld');

    // A price above --max-amount is refused by the chain; at the price it is paid and split.
    const cheap = await run(
      words(`licence accept ${contentId} rent-3 --max-amount 1000 --from buyer`),
    );
    assert.equal(cheap.code, 1);
    const accepted = await ok(
      words(`licence accept ${contentId} rent-3 --max-amount 1999 --from buyer`),
    );
    const agreementId = /^agreement ([0-9a-f]{64})$/m.exec(accepted)?.[1];
    assert.ok(agreementId, accepted);
    const view = JSON.parse(await ok(['licence', 'show', agreementId, '--json'])) as AgreementView;
    assert.equal(view.agreement.licensee, addresses.buyer);
    // 10% of 19.99 is 199.9 units, 5% is 99.95: floor gives 199 and 99, and the one unit of
    // remainder of the title shares goes to the larger remainder (the publisher's .95).
    assert.deepEqual(
      view.agreement.paid?.splits.map((s) => [s.to, s.amount, s.role]),
      [
        [addresses.creator, '199', 'title'],
        [addresses.publisher, '100', 'title'],
        [addresses.distributor, '1700', 'offerer'],
      ],
    );
    assert.deepEqual(
      [await balance('creator'), await balance('publisher'), await balance('buyer')],
      ['199', '100', String(10_000 - 1_999)],
    );
    // The gateway reports more plays than the licence allows (a race on the last one): the chain
    // keeps the excess as overuse, and licence show says so.
    const gateway = await t.client.getAccount(contentKey.address);
    const usage = await t.client.submitBatch(
      [
        signTx(
          {
            chainId,
            sender: contentKey.address,
            nonce: gateway.nonce,
            ...licensingTxBuilders.usage(agreementId, { play: 5 }),
          },
          contentKey,
        ),
      ],
      { wait: 'commit' },
    );
    assert.deepEqual(
      usage.results.map((r) => (r as { status: string }).status),
      ['ok'],
    );
    const used = await ok(['licence', 'show', agreementId]);
    assert.match(used, /^used +play 3$/m);
    assert.match(used, /^overuse +play 2$/m);
    const listed = await ok(words('licence list --licensee buyer'));
    assert.match(listed, new RegExp(`${agreementId} +${contentId.slice(0, 16)} +rent-3 +active`));

    // Revoked by the offerer; eve may not.
    const eve = await run(['licence', 'revoke', agreementId, '--reason', 'mine', '--from', 'eve']);
    assert.equal(eve.code, 1);
    await ok(['licence', 'revoke', agreementId, '--reason', 'chargeback', '--from', 'distributor']);
    assert.match(await ok(['licence', 'show', agreementId]), /^status +revoked$/m);
    await ok(words(`licence withdraw ${contentId} rent-3 --from distributor`));
    assert.match(await ok(words(`licence show ${contentId} rent-3`)), /^status +withdrawn$/m);

    // Command line misuse exits 2 before anything is sent.
    assert.equal((await run(words('content show ABC'))).code, 2);
    assert.equal(
      (await run(words(`content assign ${contentId} --to eve --share 10001 --from distributor`)))
        .code,
      2,
    );
    assert.equal((await run(words(`licence accept ${contentId} Bad_Id --from buyer`))).code, 2);
  });

  it('verify title checks the chain of title online and from a file, and refuses a tampered one', async () => {
    const online = await ok(['verify', 'title', contentId]);
    const title = JSON.parse(await ok(['content', 'title', contentId, '--json'])) as TitleView;
    // The verdict names the height it holds as of: the last tx's.
    assert.match(
      online,
      new RegExp(
        `^ok: as of height ${title.assignments[1]!.tx.height}, content ${contentId} was registered by its owner and passed through 2 assignments`,
      ),
    );
    const savedFile = file('title.json', JSON.stringify(title));
    await ok(['verify', 'title', contentId, '--file', savedFile]);

    // Offline: with a light-client state saved by verify chain, no node is asked anything.
    const trustFile = path.join(home, 'trust.json');
    await ok(['verify', 'chain', '--save-trust', trustFile]);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const offline = await run(
      ['verify', 'title', contentId, '--file', savedFile, '--trust', trustFile],
      `http://127.0.0.1:${port}`,
    );
    assert.equal(offline.code, 0, offline.err);
    assert.match(offline.out, /anchored at the state in .*trust\.json/);

    const refused = async (tampered: unknown, why: RegExp) => {
      const where = file('tampered.json', JSON.stringify(tampered));
      const result = await run(['verify', 'title', contentId, '--file', where]);
      assert.equal(result.code, 1, `a tampered title verified: ${result.out}`);
      assert.match(result.err, /verification_failed/);
      assert.match(result.out, why);
    };
    const copy = () => JSON.parse(JSON.stringify(title)) as TitleView;

    // A changed share in the listing: the tx says otherwise.
    const share = copy();
    share.assignments[0]!.share = 0;
    await refused(share, /assignment 1 claims a share of 0, its tx says 1000/);
    // A changed share in the tx itself: it no longer hashes to its hash, nor is it signed.
    const signedShare = copy();
    (signedShare.assignments[0]!.tx.tx.payload as { share: number }).share = 0;
    await refused(signedShare, /assignment 1: the tx does not hash to the claimed hash/);
    // A removed assignment: the next one was not sent by the holder before it.
    const removed = copy();
    removed.assignments.splice(0, 1);
    await refused(removed, /was sent by .* not by the holder before it/);
    // The last one removed: the holder is not where the chain ends.
    const last = copy();
    last.assignments.pop();
    await refused(last, /the last assignment is to/);
    // One byte of a Merkle proof path: the proof no longer leads to the block's txRoot.
    const proof = copy();
    const bundle = proof.assignments[1]!.tx;
    const steps = bundle.proof.path;
    assert.ok(steps.length > 0, 'the second assignment shares its block with the transfers');
    const step = steps[0]!;
    steps[0] = (step[0] === '0' ? '1' : '0') + step.slice(1);
    await refused(proof, /assignment 2: the Merkle proof does not lead to the block's txRoot/);
    // An assignment renumbered into another place: the index it signed says otherwise.
    const renumbered = copy();
    renumbered.assignments.splice(0, 1);
    renumbered.assignments[0]!.index = 1;
    await refused(renumbered, /assignment 1 was signed as assignment 2/);
    // Another content's id on the command line.
    const other = await run(['verify', 'title', 'ab'.repeat(32), '--file', savedFile]);
    assert.equal(other.code, 1);
  });

  it('verify title refuses a title with a round trip left out, and says as of which height a stale one holds', async () => {
    // A -> B (keeping 1000 bp), B -> A, A -> C: without the signed index, a file with only A -> C
    // (as assignment 1) would pass, hiding B's share of every later payment.
    const roundTripBytes = randomBytes(3_000);
    const roundTripId = createHash('sha256').update(roundTripBytes).digest('hex');
    const { chainId } = await t.client.health();
    const proof = toHex(
      sign(
        registrationMessage(chainId, roundTripId, addresses.creator!),
        fromHex(contentKey.secretKey),
      ),
    );
    await ok([
      ...words('content register'),
      file('round-trip.webm', roundTripBytes),
      '--title',
      'A round trip',
      '--public-key',
      toHex(publicKeyFromAddress(contentKey.address)),
      '--proof',
      proof,
      '--from',
      'creator',
    ]);
    await ok(words(`content assign ${roundTripId} --to eve --share 1000 --from creator`));
    const staleTitle = await ok(['content', 'title', roundTripId, '--json']);
    await ok(words(`content assign ${roundTripId} --to creator --share 0 --from eve`));
    await ok(words(`content assign ${roundTripId} --to buyer --share 0 --from creator`));
    const title = JSON.parse(await ok(['content', 'title', roundTripId, '--json'])) as TitleView;
    assert.equal(title.assignments.length, 3);

    const dropped = JSON.parse(JSON.stringify(title)) as TitleView;
    dropped.assignments.splice(0, 2);
    dropped.assignments[0]!.index = 1;
    const where = file('dropped.json', JSON.stringify(dropped));
    const result = await run(['verify', 'title', roundTripId, '--file', where]);
    assert.equal(result.code, 1, `a title with a round trip left out verified: ${result.out}`);
    assert.match(result.out, /assignment 1 was signed as assignment 3/);

    // A stale title (saved before the last two assignments) still verifies, but only as of the
    // height of its last tx, which the verdict names.
    const stale = JSON.parse(staleTitle) as TitleView;
    const staleFile = file('stale.json', staleTitle);
    const verdict = await ok(['verify', 'title', roundTripId, '--file', staleFile]);
    assert.match(
      verdict,
      new RegExp(`^ok: as of height ${stale.assignments[0]!.tx.height}, content ${roundTripId}`),
    );
    assert.ok(stale.assignments[0]!.tx.height < title.assignments[2]!.tx.height);
  });
});
