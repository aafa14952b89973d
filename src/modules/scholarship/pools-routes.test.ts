import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CofferError, type CofferClient } from '../../sdk/client.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { scholarshipTxBuilders as build } from './client.js';
import type { PoolRecipients } from './pools.js';

/*
 * The pool and mentorship routes on a node in this process, through the SDK: a manager creates a
 * pool inviting a cohort, the student joins, two donors fund it, a mentorship starts and its
 * apprentice claims after a period; the pool view (members and invitations), the donors'
 * statement (paged), the recipients and the mentorship view answer what the chain did, and the
 * codes come with their HTTP statuses.
 */

let testNode: TestNode;
let client: CofferClient;
let dev: SigningKey;
const manager = generateKey();
const donorA = generateKey();
const donorB = generateKey();
const student = generateKey();
const mentor = generateKey();
const outsider = generateKey();
const invitee = generateKey();

async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
  const result = await client.send(key, tx, { wait: 'commit' });
  assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  return result;
}

async function codeOf(promise: Promise<unknown>): Promise<[string, number]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CofferError);
    return [error.code, error.status];
  }
  assert.fail('expected a CofferError');
}

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${testNode.url}${path}`);
  return { status: response.status, body: await response.json() };
}

before(async () => {
  testNode = await startTestNode('scholarship-pools-routes');
  ({ client, dev } = testNode);
  for (const k of [manager, donorA, donorB]) {
    await ok(dev, {
      type: 'ledger.transfer',
      payload: { to: k.address, asset: 'USD', amount: '50000' },
    });
  }
  await ok(
    manager,
    build.poolCreate({
      poolId: 'algebra-club',
      asset: 'USD',
      subject: 'math',
      cohort: [student.address, invitee.address],
      perAcceptedAnswer: '25',
      perMemberMax: '500',
    }),
  );
  await ok(student, build.poolJoin('algebra-club'));
  await ok(donorA, build.poolFund('algebra-club', '3000'));
  // A donor may name the manager it means (a squatted pool id is then refused).
  await ok(donorB, build.poolFund('algebra-club', '1000', manager.address));
  await ok(donorA, build.poolFund('algebra-club', '500'));
  await ok(
    manager,
    build.mentorshipStart({
      mentorshipId: 'algebra-1',
      poolId: 'algebra-club',
      mentor: mentor.address,
      apprentice: student.address,
      stipend: '400',
      periodBlocks: 1,
      periods: 3,
    }),
  );
});

after(async () => {
  await testNode.close();
});

describe('scholarship pool routes', () => {
  it('answers the pool with its funds, reservation, members and mentorships', async () => {
    const pool = await client.scholarship.pool('algebra-club');
    assert.equal(pool.manager, manager.address);
    assert.equal(pool.funded, '4500');
    assert.equal(pool.reserved, '1200');
    assert.equal(pool.available, '3300');
    assert.deepEqual(
      pool.memberList.map((m) => m.member),
      [student.address],
    );
    assert.equal(pool.perMemberMax, '500');
    assert.equal(pool.minReward, '1');
    assert.equal(pool.invitations, 1);
    assert.deepEqual(
      pool.invitationList.map((i) => i.member),
      [invitee.address],
    );
    assert.deepEqual(pool.activeMentorships, ['algebra-1']);
  });

  it('pays a claimed stipend and answers the mentorship and the recipients', async () => {
    const claim = await ok(outsider, build.mentorshipClaim('algebra-1'));
    assert.ok(claim.status === 'ok');
    const mentorship = await client.scholarship.mentorship('algebra-1');
    assert.ok(mentorship.claimed >= 1);
    assert.equal(mentorship.paid, String(400 * mentorship.claimed));
    assert.equal(mentorship.apprentice, student.address);
    const recipients = await get('/v1/scholarship/pools/algebra-club/recipients');
    assert.equal(recipients.status, 200);
    const list = (recipients.body as PoolRecipients).recipientList;
    assert.deepEqual(
      list.map((r) => [r.recipient, r.paidStipends]),
      [[student.address, mentorship.paid]],
    );
    const page = await client.scholarship.poolRecipients('algebra-club', { limit: 1 });
    assert.deepEqual(page.recipientList, list);
    assert.equal(page.next, null);
  });

  it("pages the donors' statement, one aggregate per donor", async () => {
    const first = await client.scholarship.poolStatement('algebra-club', { limit: 1 });
    assert.equal(first.donors, 2);
    assert.equal(first.funded, '4500');
    assert.equal(first.donorList.length, 1);
    assert.ok(first.next);
    const rest = await client.scholarship.poolStatement('algebra-club', {
      after: first.next,
      limit: 100,
    });
    assert.equal(rest.next, null);
    const byDonor = new Map([...first.donorList, ...rest.donorList].map((d) => [d.donor, d]));
    assert.deepEqual(
      [byDonor.get(donorA.address)?.funded, byDonor.get(donorA.address)?.fundings],
      ['3500', 2],
    );
    assert.equal(byDonor.get(donorB.address)?.funded, '1000');
  });

  it('refuses with the codes and statuses of the table', async () => {
    assert.deepEqual(await codeOf(client.scholarship.pool('nope')), ['pool_not_found', 404]);
    assert.deepEqual(await codeOf(client.scholarship.pool('Bad!')), ['invalid_pool_id', 400]);
    assert.deepEqual(await codeOf(client.scholarship.mentorship('nope')), [
      'mentorship_not_found',
      404,
    ]);
    // A committed tx refused by its handler: the code in the receipt, nothing changed.
    const [code] = await codeOf(
      client.send(outsider, build.poolAddMember('algebra-club', mentor.address), {
        wait: 'commit',
      }),
    );
    assert.equal(code, 'not_pool_manager');
    const pool = await client.scholarship.pool('algebra-club');
    assert.equal(pool.members, 1);
    // Joining needs an invitation; the committed tx fails with the code and changes nothing.
    assert.deepEqual(
      await codeOf(client.send(outsider, build.poolJoin('algebra-club'), { wait: 'commit' })),
      ['not_invited', 422],
    );
    assert.deepEqual(
      await codeOf(
        client.send(manager, build.poolAddMember('algebra-club', invitee.address), {
          wait: 'commit',
        }),
      ),
      ['pool_invitation_exists', 422],
    );
    assert.deepEqual(
      await codeOf(client.send(outsider, build.poolLeave('algebra-club'), { wait: 'commit' })),
      ['pool_member_not_found', 422],
    );
    // The donor names another manager than the pool's: refused, nothing funded.
    assert.deepEqual(build.poolFund('algebra-club', '1', outsider.address).payload, {
      poolId: 'algebra-club',
      amount: '1',
      manager: outsider.address,
    });
    assert.deepEqual(
      await codeOf(
        client.send(donorB, build.poolFund('algebra-club', '1', outsider.address), {
          wait: 'commit',
        }),
      ),
      ['pool_manager_mismatch', 422],
    );
    const after = await client.scholarship.pool('algebra-club');
    assert.equal(after.members, 1);
    assert.equal(after.invitations, 1);
    assert.equal(after.funded, pool.funded);
  });

  it('an invited address joins and leaves through the SDK', async () => {
    await ok(invitee, build.poolJoin('algebra-club'));
    let pool = await client.scholarship.pool('algebra-club');
    assert.deepEqual(
      pool.memberList.map((m) => m.member).sort(),
      [student.address, invitee.address].sort(),
    );
    assert.deepEqual(pool.invitationList, []);
    await ok(invitee, build.poolLeave('algebra-club'));
    pool = await client.scholarship.pool('algebra-club');
    assert.deepEqual(
      pool.memberList.map((m) => m.member),
      [student.address],
    );
  });
});
