// Scholarship pools and mentorships through the CLI's own entry point, against a node in this
// process (issue 22, the pools round):
// - `pool create` requires --per-member-max, takes --min-reward, and invites its --cohort;
// - only an invited address joins (`pool join`), a member leaves (`pool leave`), the manager
//   invites and withdraws an invitation (`pool member [--remove]`);
// - `pool fund --manager` is refused when another address manages the pool id;
// - `pool show`, `pool statement` and `mentorship show` print text, `--json` the view;
// - a mentorship ended while its apprentice is frozen holds the stipend due: `mentorship claim`
//   is refused while frozen and pays once the issuer unfreezes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateKey, txs } from '../src/sdk/index.js';
import { inProcessCli, newKeys, useCofferHome } from './support/in-process-cli.js';
import { openNode, usdGenesis, type OpenNode } from './support/scholarship-node.js';

const passphrase = 'scholarship pools cli passphrase';
const poolId = 'algebra-fund';

describe('scholarship pools through the CLI', { timeout: 120_000 }, () => {
  let t: OpenNode;
  let home: ReturnType<typeof useCofferHome> | undefined;
  const issuer = generateKey();
  const addresses: Record<string, string> = {};

  const { run, ok } = inProcessCli(() => t.url);

  /** The command fails, naming `code` on stderr. */
  async function refused(args: string[], code: RegExp): Promise<void> {
    const result = await run(args);
    assert.notEqual(result.code, 0, `coffer ${args.join(' ')} should fail`);
    assert.match(result.err, code);
  }

  const poolJson = async () =>
    JSON.parse(await ok(['pool', 'show', poolId, '--json'])) as {
      perMemberMax: string;
      minReward: string;
      members: number;
      invitations: number;
      memberList: { member: string }[];
      invitationList: { member: string }[];
    };

  const usd = async (name: string) =>
    BigInt(
      (await t.client.getAccount(addresses[name]!)).balances.find((b) => b.asset === 'USD')
        ?.balance ?? '0',
    );

  before(async () => {
    home = useCofferHome('coffer-scholarship-pools-cli-home-', passphrase);
    t = await openNode('scholarship-pools-cli', {
      genesis: usdGenesis('coffer-scholarship-pools-cli', issuer.address),
    });
    await newKeys(ok, ['manager', 'donor', 'tutor', 'outsider', 'mentor', 'apprentice'], addresses);
    for (const name of ['manager', 'donor']) {
      await t.client.send(
        issuer,
        txs.transfer({ to: addresses[name]!, asset: 'USD', amount: '1000000' }),
      );
    }
  });

  after(async () => {
    await t?.close();
    home?.restore();
  });

  const create = [
    ...['pool', 'create', poolId, '--asset', 'USD', '--per-answer', '0.50'],
    ...['--subject', 'math', '--cohort', 'tutor', '--from', 'manager'],
  ];

  it('pool create requires --per-member-max and invites its cohort', async () => {
    await refused(create, /per-member-max/);
    await ok([...create, '--per-member-max', '20.00', '--min-reward', '2.00']);
    const pool = await poolJson();
    assert.equal(pool.perMemberMax, '2000');
    assert.equal(pool.minReward, '200');
    assert.equal(pool.members, 0, 'the cohort is invited, not enrolled');
    assert.deepEqual(
      pool.invitationList.map((i) => i.member),
      [addresses.tutor],
    );
    const text = await ok(['pool', 'show', poolId]);
    assert.match(text, /^per member, ever\s+2000 USD \(minor units\)$/m);
    assert.match(text, /^least reward\s+200 USD \(minor units\)$/m);
    assert.match(text, /^invitations\s+1$/m);
    assert.match(text, new RegExp(`^${addresses.tutor}\\s+\\d+$`, 'm'), 'the invited table');
  });

  it('only an invited address joins; a member leaves; the manager invites and withdraws', async () => {
    await refused(['pool', 'join', poolId, '--from', 'outsider'], /not_invited/);
    await ok(['pool', 'join', poolId, '--from', 'tutor']);
    let pool = await poolJson();
    assert.deepEqual(
      pool.memberList.map((m) => m.member),
      [addresses.tutor],
    );
    assert.deepEqual(pool.invitationList, []);
    assert.match(
      await ok(['pool', 'show', poolId]),
      new RegExp(`^${addresses.tutor}\\s+0\\s+0\\s+\\d+$`, 'm'),
    );
    await refused(['pool', 'member', poolId, 'outsider', '--from', 'tutor'], /not_pool_manager/);
    await ok(['pool', 'member', poolId, 'outsider', '--from', 'manager']);
    assert.equal((await poolJson()).invitations, 1);
    await ok(['pool', 'member', poolId, 'outsider', '--remove', '--from', 'manager']);
    await refused(['pool', 'join', poolId, '--from', 'outsider'], /not_invited/);
    await ok(['pool', 'leave', poolId, '--from', 'tutor']);
    pool = await poolJson();
    assert.equal(pool.members, 0);
    assert.equal(pool.invitations, 0);
    await refused(['pool', 'leave', poolId, '--from', 'tutor'], /pool_member_not_found/);
  });

  it("funds the pool (only its named manager's) and prints the statement as text", async () => {
    // --manager names the manager the donor was told of: another is refused, nothing moves.
    await refused(
      ['pool', 'fund', poolId, '--amount', '1.00', '--manager', 'outsider', '--from', 'donor'],
      /pool_manager_mismatch/,
    );
    await ok([
      ...['pool', 'fund', poolId, '--amount', '100.00'],
      ...['--manager', 'manager', '--from', 'donor'],
    ]);
    const text = await ok(['pool', 'statement', poolId]);
    assert.match(text, /^funded\s+10000 USD \(minor units\)$/m);
    assert.match(text, new RegExp(`^${addresses.donor}\\s+10000\\s+1\\s+0$`, 'm'));
    const page = JSON.parse(await ok(['pool', 'statement', poolId, '--json'])) as {
      donors: number;
    };
    assert.equal(page.donors, 1);
  });

  it('a mentorship ended while its apprentice is frozen holds the stipend until unfrozen', async () => {
    await ok([
      ...['mentorship', 'start', 'algebra-1', '--pool', poolId],
      ...['--mentor', 'mentor', '--apprentice', 'apprentice', '--stipend', '10.00'],
      ...['--period-blocks', '1', '--periods', '3', '--from', 'manager'],
    ]);
    await t.client.send(issuer, {
      type: 'asset.freeze',
      payload: { symbol: 'USD', account: addresses.apprentice },
    });
    await ok(['mentorship', 'end', 'algebra-1', '--from', 'mentor']);
    const ended = JSON.parse(await ok(['mentorship', 'show', 'algebra-1', '--json'])) as {
      status: string;
      held: string;
      claimed: number;
    };
    assert.equal(ended.status, 'ended');
    assert.ok(ended.claimed >= 1, 'at least one period fell due before the end');
    assert.equal(ended.held, String(1000 * ended.claimed));
    assert.match(
      await ok(['mentorship', 'show', 'algebra-1']),
      new RegExp(`^held\\s+${ended.held}$`, 'm'),
    );
    // The unaccrued periods went back to the pool; the held stipend stays reserved.
    const pool = JSON.parse(await ok(['pool', 'show', poolId, '--json'])) as { reserved: string };
    assert.equal(pool.reserved, ended.held);
    await refused(['mentorship', 'claim', 'algebra-1', '--from', 'outsider'], /account_frozen/);
    assert.equal(await usd('apprentice'), 0n);
    await t.client.send(issuer, {
      type: 'asset.unfreeze',
      payload: { symbol: 'USD', account: addresses.apprentice },
    });
    await ok(['mentorship', 'claim', 'algebra-1', '--from', 'outsider']);
    assert.equal(await usd('apprentice'), BigInt(ended.held));
    const paid = JSON.parse(await ok(['mentorship', 'show', 'algebra-1', '--json'])) as {
      held: string;
      paid: string;
    };
    assert.deepEqual([paid.held, paid.paid], ['0', ended.held]);
  });
});
