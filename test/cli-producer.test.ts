// The producer registry from the command line, as a user runs it: the built CLI in its own
// process against a node in another. A producer is registered with an identity file, made to sign
// two headers at one height (a test-only signer without the safety store), and reported with
// `coffer evidence submit`. Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { blockHash, zeroHash, type BlockHeader } from '../src/chain/index.js';
import {
  producerEscrowAddress,
  type CofferClient,
  type EvidenceResult,
  type Producer,
  type ProducerList,
  txs,
  type SigningKey,
} from '../src/sdk/index.js';
import { TestBlockSigner } from './support/block-signer.js';
import { CliSession } from './support/cli.js';

const passphrase = 'producer test passphrase';
/** The registered range: small, so the CLI computes it in ~0.1 s, and aligned with the signer's. */
const rangeHeights = 64;
const runTimeoutMs = 30_000;
const suiteTimeoutMs = 120_000;

describe(
  'coffer producer and evidence commands against a node process',
  { timeout: suiteTimeoutMs },
  () => {
    const cli = new CliSession({ name: 'cli-producer', passphrase, runTimeoutMs });
    const { ok, okJson, fails } = cli;
    let client: CofferClient;
    let dev: SigningKey;
    let chainId = '';

    function writeJson(name: string, value: unknown): string {
      const file = path.join(cli.workDir, name);
      fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
      return file;
    }

    async function escrowUsd(id: string): Promise<string> {
      const account = await client.getAccount(producerEscrowAddress(id));
      return account.balances.find((b) => b.asset === 'USD')?.balance ?? '0';
    }

    before(async () => {
      await cli.start({ blockIntervalMs: 20 });
      ({ client } = cli);
      chainId = (await client.health()).chainId;
      dev = await cli.importDevKey();
      // The solo node's operator key (its producer-key.json): the one validator, who approves.
      const { secretKey } = JSON.parse(
        fs.readFileSync(path.join(cli.dataDir, 'producer-key.json'), 'utf8'),
      ) as { secretKey: string };
      await ok(['keys', 'import', 'validator'], { input: `${secretKey}\n` });
    });

    after(() => cli.close());

    it('registers, shows and lists a producer, reports its equivocation and shows it jailed and revealed', async () => {
      // The producer's key is a keystore key of its own; the CLI derives the accountable key from it.
      const seed = randomBytes(32);
      await ok(['keys', 'import', 'prod'], { input: `${seed.toString('hex')}\n` });
      const signer = new TestBlockSigner(new Uint8Array(seed), chainId, rangeHeights);
      const info = {
        name: 'Equivocating Producer GmbH',
        contact: 'ops@equivocating.example',
        legalEntity: { register: 'HRB 12345', country: 'DE' },
      };
      const infoFile = writeJson('info.json', info);
      const { height } = await client.health();
      const startHeight = (Math.floor(height / rangeHeights) + 1) * rangeHeights;
      const devBefore = (await client.getAccount(dev.address)).balances.find(
        (b) => b.asset === 'USD',
      )!.balance;

      const registered = await okJson<{ hash: string; status: string; producer: string }>([
        'producer',
        'register',
        '--info',
        infoFile,
        '--bond',
        '2000',
        '--from',
        'dev',
        '--producer-key',
        'prod',
        '--nonces',
        String(rangeHeights),
        '--start-height',
        String(startHeight),
      ]);
      assert.equal(registered.status, 'ok');
      const id = registered.producer;
      assert.equal(id, signer.producer, 'the producer id is the accountable key of the prod seed');

      // Pending, bonded in escrow, with the range the signer's own key commits.
      assert.match(
        await ok(['producer', 'show', id]),
        /^approvals\s+0 \(none yet\)$/m,
        'pending until approved',
      );
      const pending = await okJson<Producer>(['producer', 'show', id]);
      assert.equal(pending.status, 'pending');
      // The one validator's operator approves it: more than two thirds of one.
      const approved = await ok(['producer', 'approve', id, '--from', 'validator']);
      assert.match(approved, new RegExp(`^producer ${id} is active$`, 'm'));
      const shown = await okJson<Producer>(['producer', 'show', id]);
      assert.equal(shown.status, 'active');
      assert.equal(shown.bond, '200000');
      assert.equal(shown.operator, dev.address);
      assert.deepEqual(shown.nonceRanges, [signer.range(startHeight)]);
      assert.equal(await escrowUsd(id), '200000');
      const devAfter = (await client.getAccount(dev.address)).balances.find(
        (b) => b.asset === 'USD',
      )!.balance;
      assert.equal(BigInt(devBefore) - BigInt(devAfter), 200000n);
      const human = await ok(['producer', 'show', id]);
      assert.match(human, /^status\s+active$/m);
      assert.match(human, /^bond\s+2000\.00 USD$/m);
      assert.match(human, new RegExp(`^escrow\\s+${producerEscrowAddress(id)}$`, 'm'));

      const listed = await okJson<ProducerList>(['producer', 'list']);
      assert.equal(listed.producers.length, 2, 'the genesis producer and the new one');
      assert.equal(listed.producers.find((p) => p.id === id)?.status, 'active');
      const table = await ok(['producer', 'list']);
      assert.match(table, /^ID\s+STATUS\s+BOND\s+REGISTERED\s+NONCES TO$/m);
      assert.match(
        table,
        new RegExp(
          `^${id}\\s+active\\s+2000\\.00 USD\\s+\\d+\\s+${startHeight + rangeHeights - 1}$`,
          'm',
        ),
      );

      // Two different headers at one committed height, both signed: equivocation.
      const at = startHeight + 3;
      const headerOf = (stateRoot: string): BlockHeader => ({
        chainId,
        height: at,
        prevHash: zeroHash,
        time: 1_767_225_600_000,
        txCount: 0,
        txRoot: zeroHash,
        receiptRoot: zeroHash,
        stateRoot,
        producer: id,
      });
      const half = (stateRoot: string) => {
        const header = headerOf(stateRoot);
        return { header, signature: signer.sign(header, blockHash(header)) };
      };
      const a = half('aa'.repeat(32));
      const b = half('bb'.repeat(32));
      const evidenceFile = writeJson('evidence.json', { a, b });

      const reported = await okJson<EvidenceResult>(['evidence', 'submit', evidenceFile]);
      assert.equal(reported.status, 'ok');
      assert.equal(reported.producer, id);
      assert.equal(reported.infoRevealed, true);
      assert.deepEqual(reported.info, info);

      const jailed = await okJson<Producer>(['producer', 'show', id]);
      assert.equal(jailed.status, 'jailed');
      assert.equal(jailed.bond, '0');
      assert.deepEqual(jailed.equivocation?.info, JSON.parse(fs.readFileSync(infoFile, 'utf8')));
      assert.equal(jailed.equivocation?.infoRevealed, true);
      assert.equal(jailed.equivocation?.height, at);
      assert.equal(jailed.equivocation?.slashed, '200000');
      assert.equal(await escrowUsd(id), '0', 'the bond is gone from escrow');
      const jailedHuman = await ok(['producer', 'show', id]);
      assert.match(jailedHuman, /^status\s+jailed$/m);
      assert.match(jailedHuman, /^ {2}info\s+\{"contact":"ops@equivocating\.example",/m);
      assert.match(jailedHuman, /^ {2}slashed\s+2000\.00 USD$/m);

      // The same evidence again is a duplicate; a jailed producer cannot unbond.
      const duplicate = await fails(['evidence', 'submit', evidenceFile], 'evidence_duplicate');
      assert.match(duplicate, /already slashed/);
      await fails(['producer', 'unbond', id, '--from', 'dev'], 'producer_not_active');
    });

    it('refuses malformed evidence files with the reason', async () => {
      const notJson = writeJson('not-json.json', '{"a": ');
      assert.match(await fails(['evidence', 'submit', notJson], 'invalid_file'), /is not JSON/);
      const missing = writeJson('missing.json', { a: { header: {}, signature: {} } });
      assert.match(
        await fails(['evidence', 'submit', missing], 'invalid_evidence'),
        /evidence is \{"a": \{"header", "signature"\}, "b"/,
      );
      const noSignature = writeJson('no-signature.json', {
        a: { header: {}, signature: {} },
        b: { header: {} },
      });
      assert.match(
        await fails(['evidence', 'submit', noSignature], 'invalid_evidence'),
        /"b" must hold a header object and a signature object/,
      );
      // Well-shaped but not evidence: the node's own check answers.
      const badHeaders = writeJson('bad-headers.json', {
        a: { header: { height: 1 }, signature: { height: 1, R: '00', s: '00' } },
        b: { header: { height: 1 }, signature: { height: 1, R: '00', s: '00' } },
      });
      assert.match(
        await fails(['evidence', 'submit', badHeaders], 'invalid_evidence'),
        /two headers of one chain, producer and height/,
      );
      await fails(['evidence', 'submit', path.join(cli.workDir, 'absent.json')], 'invalid_file');
    });

    it('registers with the --from key as producer key, commits the next nonces and unbonds', async () => {
      const infoFile = writeJson('dev-info.json', { name: 'Dev Producer' });
      const text = await ok([
        'producer',
        'register',
        '--info',
        infoFile,
        '--bond',
        '1000.50',
        '--from',
        'dev',
        '--nonces',
        '16',
      ]);
      const id = /^producer\s+(cof1\S+)$/m.exec(text)?.[1];
      assert.ok(id, text);
      assert.match(text, /^bond\s+1000\.50 USD$/m);
      assert.match(text, /^status\s+pending: active once more than two thirds/m);
      const registered = await client.getProducer(id);
      assert.equal(registered.bond, '100050');
      const [first] = registered.nonceRanges;
      assert.ok(first && first.fromHeight > registered.registeredAtHeight && first.count === 16);

      // Registering the same key again is refused before any tx; so is a bond in another asset.
      assert.match(
        await fails(
          ['producer', 'register', '--info', infoFile, '--bond', '1000', '--from', 'dev'],
          'producer_exists',
        ),
        /already registered/,
      );
      await ok(['keys', 'new', 'other']);
      await fails(
        [
          ...['producer', 'register', '--info', infoFile, '--bond', '1000', '--asset', 'EUR'],
          ...['--from', 'dev', '--producer-key', 'other'],
        ],
        'asset_mismatch',
      );
      const tooLarge = writeJson('large-info.json', { name: 'x'.repeat(5000) });
      await fails(
        [
          'producer',
          'register',
          '--info',
          tooLarge,
          '--bond',
          '1000',
          '--from',
          'dev',
          '--producer-key',
          'other',
        ],
        'invalid_info',
      );

      // Nonces: with the wrong key refused; with the right one contiguous with the first range.
      await fails(
        [
          'producer',
          'commit-nonces',
          id,
          '--from',
          'dev',
          '--producer-key',
          'other',
          '--nonces',
          '16',
        ],
        'wrong_producer_key',
      );
      await okJson(['producer', 'commit-nonces', id, '--from', 'dev', '--nonces', '16']);
      const committed = await client.getProducer(id);
      assert.deepEqual(
        committed.nonceRanges.map((r) => [r.fromHeight, r.count]),
        [
          [first.fromHeight, 16],
          [first.fromHeight + 16, 16],
        ],
      );

      // Pending: not unbonded (withdrawn instead); approved only by a validator's operator.
      await fails(['producer', 'unbond', id, '--from', 'dev'], 'producer_not_active');
      await fails(['producer', 'approve', id, '--from', 'dev'], 'not_validator_operator');
      await ok(['producer', 'approve', id, '--from', 'validator']);
      await fails(['producer', 'approve', id, '--from', 'validator'], 'producer_not_pending');
      assert.equal((await client.getProducer(id)).status, 'active');

      const unbonded = await okJson<{ status: string; height: number; unbondAtHeight: number }>([
        'producer',
        'unbond',
        id,
        '--from',
        'dev',
      ]);
      assert.equal(unbonded.status, 'ok');
      const unbonding = await client.getProducer(id);
      assert.equal(unbonding.status, 'unbonding');
      assert.equal(unbonding.unbondAtHeight, unbonded.unbondAtHeight);
      assert.ok(unbonded.unbondAtHeight > unbonded.height);

      // Unbonding does not escape evidence: equivocation now still jails and slashes it.
      const signer = new TestBlockSigner(
        new Uint8Array(Buffer.from(dev.secretKey, 'hex')),
        chainId,
        rangeHeights,
      );
      assert.equal(signer.producer, id);
      const at = first.fromHeight + 1;
      const half = (stateRoot: string) => {
        const header: BlockHeader = {
          chainId,
          height: at,
          prevHash: zeroHash,
          time: 1_767_225_600_000,
          txCount: 0,
          txRoot: zeroHash,
          receiptRoot: zeroHash,
          stateRoot,
          producer: id,
        };
        return { header, signature: signer.sign(header, blockHash(header)) };
      };
      const evidenceFile = writeJson('dev-evidence.json', {
        a: half('cc'.repeat(32)),
        b: half('dd'.repeat(32)),
      });
      const reported = await ok(['evidence', 'submit', evidenceFile]);
      assert.match(
        reported,
        new RegExp(`^producer ${id} jailed for signing two headers at height ${at}$`, 'm'),
      );
      assert.match(reported, /^info\s+\{"name":"Dev Producer"\}$/m);
      assert.match(reported, /^status\s+ok$/m);
      const jailed = await client.getProducer(id);
      assert.equal(jailed.status, 'jailed');
      assert.equal(jailed.unbondAtHeight, undefined);
      assert.equal(jailed.equivocation?.slashed, '100050');
      assert.equal(await escrowUsd(id), '0');
    });

    it('withdraws a pending producer: the bond returns at once', async () => {
      const applicant = (await okJson<{ address: string }>(['keys', 'new', 'applicant'])).address;
      await client.send(dev, txs.transfer({ to: applicant, asset: 'USD', amount: '150000' }));
      const infoFile = writeJson('applicant-info.json', { name: 'Applicant' });
      const registered = await okJson<{ producer: string }>([
        ...['producer', 'register', '--info', infoFile, '--bond', '1000'],
        ...['--from', 'applicant', '--nonces', '16'],
      ]);
      const id = registered.producer;
      assert.equal((await client.getProducer(id)).status, 'pending');
      await fails(['producer', 'withdraw', id, '--from', 'dev'], 'not_producer_operator');
      await fails(['producer', 'claim-bond', id, '--from', 'applicant'], 'no_bond_owed');
      await fails(['producer', 'unjail', id, '--from', 'applicant'], 'producer_not_jailed');
      const withdrawn = await ok(['producer', 'withdraw', id, '--from', 'applicant']);
      assert.match(withdrawn, new RegExp(`^producer ${id} withdrawn; its bond is back`, 'm'));
      assert.equal(await escrowUsd(id), '0');
      const balance = (await client.getAccount(applicant)).balances.find((b) => b.asset === 'USD');
      assert.equal(balance?.balance, '150000');
      // Gone from the registry (it held a slot only while pending).
      await fails(['producer', 'show', id], 'producer_not_found');
      await fails(['producer', 'approve', id, '--from', 'validator'], 'producer_not_found');
    });

    it('lists the producer commands in coffer --help', async () => {
      const help = await ok(['--help']);
      for (const command of [
        'producer register --info FILE --bond AMOUNT',
        'producer show ID',
        'producer list',
        'producer unbond ID --from NAME',
        'producer commit-nonces ID',
        'producer approve ID --from NAME',
        'producer withdraw ID --from NAME',
        'producer unjail ID --from NAME',
        'producer claim-bond ID --from NAME',
        'evidence submit FILE',
      ]) {
        assert.ok(help.includes(command), command);
      }
    });
  },
);
