import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import {
  lifecycleEvents,
  lifecycleStep,
  lifecycleTable,
  tokenInitiators,
  tokenStatuses,
  type LifecycleEvent,
} from './lifecycle.js';
import { readToken } from './state.js';
import {
  issuer,
  panUpdatePayload,
  provisioned,
  requestor,
  serviceIn,
  tsp,
  TxWorld,
  wallet,
  type TestKey,
} from './txs-fixture.js';

const partyOf: Record<(typeof tokenInitiators)[number], TestKey> = { issuer, requestor, wallet };

/** A random event: its type, who sends it, and how its sequence number relates to the next one. */
const eventArbitrary = fc.record({
  event: fc.constantFrom(...lifecycleEvents),
  initiator: fc.constantFrom(...tokenInitiators),
  // Mostly the next number; sometimes a replay, a stale or a future one.
  seqOffset: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
  ),
});

describe('the lifecycle state machine', () => {
  it('the table: deleted is final, no event reactivates it, updatePan keeps the status', () => {
    for (const event of lifecycleEvents) {
      assert.equal(lifecycleTable[event].from.includes('deleted'), false, event);
    }
    assert.deepEqual(tokenStatuses, ['active', 'suspended', 'deleted']);
    assert.equal('token.activate' in lifecycleTable, false);
    assert.equal(lifecycleTable['token.updatePan'].to, undefined);
    assert.deepEqual(lifecycleTable['token.updatePan'].by, ['issuer']);
  });

  it('only the issuer updates the PAN: the requestor and the wallet are refused as initiators', () => {
    const active = { status: 'active' as const, seq: 0 };
    for (const initiator of ['requestor', 'wallet'] as const) {
      assert.equal(lifecycleStep(active, 'token.updatePan', initiator, 1), 'initiator_not_allowed');
    }
    assert.deepEqual(lifecycleStep(active, 'token.updatePan', 'issuer', 1), {
      status: 'active',
      seq: 1,
    });
  });

  it('names a deleted token as such, even for an event with the next sequence number', () => {
    const deleted = { status: 'deleted' as const, seq: 4 };
    assert.equal(lifecycleStep(deleted, 'token.resume', 'issuer', 5), 'token_deleted');
    assert.equal(lifecycleStep(deleted, 'token.updatePan', 'issuer', 5), 'token_deleted');
  });

  it('a PAN update keeps who suspended the token: the wallet may still lift its own suspension', () => {
    /** The state after a step the table allows. */
    const allowed = (...step: Parameters<typeof lifecycleStep>) => {
      const next = lifecycleStep(...step);
      assert.notEqual(typeof next, 'string', `${step[1]} refused: ${JSON.stringify(next)}`);
      return next as Exclude<typeof next, string>;
    };
    const suspended = allowed({ status: 'active', seq: 0 }, 'token.suspend', 'wallet', 1);
    assert.deepEqual(suspended, { status: 'suspended', seq: 1, suspendedBy: 'wallet' });
    const updated = allowed(suspended, 'token.updatePan', 'issuer', 2);
    assert.deepEqual(updated, { status: 'suspended', seq: 2, suspendedBy: 'wallet' });
    assert.deepEqual(allowed(updated, 'token.resume', 'wallet', 3), { status: 'active', seq: 3 });
  });

  it('lifecycleStep never leaves the table and sequence numbers grow by one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...tokenStatuses),
        fc.nat(1_000),
        fc.constantFrom(...lifecycleEvents),
        fc.constantFrom(...tokenInitiators),
        fc.integer({ min: 0, max: 1_002 }),
        (status, seq, event, initiator, sent) => {
          const next = lifecycleStep({ status, seq }, event, initiator, sent);
          if (typeof next === 'string') return;
          const rule = lifecycleTable[event];
          assert.ok(rule.from.includes(status));
          assert.ok(rule.by.includes(initiator));
          assert.equal(next.status, rule.to ?? status);
          assert.equal(next.seq, seq + 1);
        },
      ),
    );
  });

  it('random event sequences through the handlers: accepted only as the table says', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { minLength: 1, maxLength: 25 }), (events) => {
        const w = new TxWorld();
        serviceIn(w);
        const token = provisioned(w, { wallet: wallet.address });
        let model: { status: (typeof tokenStatuses)[number]; seq: number; suspendedBy?: string } = {
          status: 'active',
          seq: 0,
        };
        for (const { event, initiator, seqOffset } of events) {
          const seq = Math.max(1, model.seq + 1 + seqOffset);
          const before = readToken(w.state, token)!;
          const result = send(w, token, event, initiator, seq);
          const after = readToken(w.state, token)!;
          const rule = lifecycleTable[event];
          const allowed =
            model.status !== 'deleted' &&
            seq === model.seq + 1 &&
            rule.from.includes(model.status) &&
            rule.by.includes(initiator) &&
            !(event === 'token.resume' && model.suspendedBy === 'issuer' && initiator !== 'issuer');
          assert.equal(result === 'ok', allowed, `${event} by ${initiator} seq ${seq}: ${result}`);
          if (result !== 'ok') {
            assert.deepEqual(after, before, 'a refused event changes nothing');
            continue;
          }
          assert.equal(after.seq, before.seq + 1, 'sequence numbers strictly increase');
          assert.equal(after.status, rule.to ?? before.status);
          model = {
            status: after.status,
            seq: after.seq,
            ...(after.suspendedBy === undefined ? {} : { suspendedBy: after.suspendedBy }),
          };
        }
      }),
      { numRuns: 60 },
    );
  });
});

function send(
  w: TxWorld,
  token: string,
  event: LifecycleEvent,
  initiator: (typeof tokenInitiators)[number],
  seq: number,
): string {
  if (event === 'token.updatePan') {
    // Relayed by the node with the signature of the party named (only the issuer's verifies).
    return w.run(tsp, event, panUpdatePayload(token, seq, undefined, partyOf[initiator]));
  }
  return w.run(partyOf[initiator], event, { token, seq, initiator, reason: 'customer_request' });
}
