import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ledger } from '../../ledger/index.js';
import { auditLedger } from '../../ledger/invariants.js';
import { readCardDevice, readCardToken } from './state.js';
import {
  acquirer,
  approvedDevice,
  answer,
  asset,
  authorisePayload,
  cardsWorld,
  device,
  funds,
  holder,
  issuer,
  linkedCard,
  mintPayload,
  otherAcquirer,
  terminal,
  tsp,
} from './txs-fixture.js';

/*
 * Random interleavings of batches, payments (a token paid again, as by a copied device, at the
 * same or another acquirer), suspensions of the card, device removals and the clock, run through
 * the handlers: a token never pays twice, every hold placed is one used token's, every used token
 * is consumed in the same tx that held its amount, and the ledger balances after every step.
 */

type Op =
  | { kind: 'mint'; device: number; count: number }
  | { kind: 'pay'; pick: number; amount: number; other: boolean }
  | { kind: 'suspend' }
  | { kind: 'resume' }
  | { kind: 'remove'; device: number }
  | { kind: 'readd'; device: number }
  | { kind: 'time'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('mint' as const),
      device: fc.nat(1),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      pick: fc.nat(),
      amount: fc.integer({ min: 1, max: 400_000 }),
      other: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('readd' as const), device: fc.nat(1) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'suspend' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), device: fc.nat(1) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ms: fc.integer({ min: 0, max: 2_000_000 }),
    }),
  },
);

describe('card payments under random interleavings', () => {
  it('never pays a token twice and never holds money without a used token', () => {
    let deletions = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const w = cardsWorld();
        const { card, token: vaultToken } = linkedCard(w, 'card-p', {
          tokensMax: 6,
          tokenLifeMs: 3_000_000,
        });
        const devices = [device(60), device(61)];
        for (const d of devices) approvedDevice(w, card, d);
        const minted: string[] = [];
        const paidBy = new Map<string, string>(); // token -> hold id or decline
        let seq = 0;
        let deleted = 0;
        let suspended = false;
        for (const step of ops) {
          if (step.kind === 'mint') {
            const payload = mintPayload(w, card, devices[step.device]!, step.count);
            if (w.run(tsp, 'card.mintTokens', payload) === 'ok') {
              minted.push(...payload.tokens.map((t) => t.token));
            }
          } else if (step.kind === 'pay' && minted.length > 0) {
            const token = minted[step.pick % minted.length]!;
            const t = terminal(String(step.amount), step.other ? 'm-2' : 'm-1');
            const result = w.run(
              tsp,
              'card.authorise',
              authorisePayload(t, answer(token, t), step.other ? otherAcquirer : acquirer),
            );
            const used = readCardToken(w.state, token);
            if (used === undefined) {
              // Expired unused: its record went with a later batch, it can never pay.
              assert.equal(result, 'card_token_not_found');
              assert.equal(paidBy.has(token), false);
            } else if (paidBy.has(token)) {
              assert.equal(
                result,
                'card_token_consumed',
                'a used token is refused, changing nothing',
              );
            } else {
              assert.equal(result, 'ok');
              assert.equal(used.status, 'consumed');
              assert.equal(used.consumed!.amount, String(step.amount));
              paidBy.set(token, used.consumed!.holdId ?? `declined:${used.consumed!.declined}`);
            }
          } else if (step.kind === 'suspend' && !suspended) {
            seq += 1;
            assert.equal(
              w.run(issuer, 'token.suspend', {
                token: vaultToken,
                seq,
                initiator: 'issuer',
                reason: 'fraud_suspected',
              }),
              'ok',
            );
            suspended = true;
          } else if (step.kind === 'resume' && suspended) {
            seq += 1;
            assert.equal(
              w.run(issuer, 'token.resume', {
                token: vaultToken,
                seq,
                initiator: 'issuer',
                reason: 'verified',
              }),
              'ok',
            );
            suspended = false;
          } else if (step.kind === 'remove') {
            w.run(holder, 'card.removeDevice', { card, device: devices[step.device]!.address });
          } else if (step.kind === 'readd') {
            const d = devices[step.device]!;
            if (readCardDevice(w.state, card, d.address)!.status === 'removed') {
              approvedDevice(w, card, d);
            }
          } else if (step.kind === 'time') {
            w.time += step.ms;
          }
          const ledger = new Ledger(w.state);
          let held = 0n;
          for (const [token, outcome] of paidBy) {
            const used = readCardToken(w.state, token)!;
            assert.equal(used.status, 'consumed');
            if (outcome.startsWith('declined:')) continue;
            const hold = ledger.hold(outcome)!;
            assert.equal(hold.amount, used.consumed!.amount, 'the hold is the used token amount');
            assert.equal(hold.payer, holder.address);
            held += BigInt(hold.amount);
          }
          assert.equal(ledger.balance(holder.address, asset) + held, funds);
          for (const token of minted) {
            const record = readCardToken(w.state, token);
            if (!paidBy.has(token) && record) assert.equal(record.status, 'unused');
            if (!record) deleted += 1;
          }
          for (const d of devices) {
            const link = readCardDevice(w.state, card, d.address)!;
            assert.ok(link.outstanding.length <= 6, "never more than the issuer's limit");
            for (const entry of link.outstanding) assert.equal(paidBy.has(entry.token), false);
          }
          assert.deepEqual(auditLedger((prefix) => w.state.range(prefix, 1_000_000)).problems, []);
        }
        if (deleted > 0) deletions += 1;
      }),
      { numRuns: 80 },
    );
    assert.ok(deletions > 0, 'some runs saw expired tokens deleted');
  });
});
