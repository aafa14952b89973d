import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signIotRequest } from '../crypto.js';
import { createCa, issueParty } from '../pki/certificates.js';
import { ChainUnavailableError, type IotChain, type SubmitOutcome } from './chain.js';
import { parseIotMessage } from './messages.js';
import { createPaymentRelay } from './payments.js';

/** A chain that answers from tables: what the relay sees of the node, nothing more. */
function fakeChain(options: {
  outcomes: SubmitOutcome[];
  bills?: Record<string, Record<string, unknown>>;
  sessions?: Record<string, Record<string, unknown>>;
  unavailable?: number;
}) {
  const submitted: { type: string; payload: Record<string, unknown> }[] = [];
  let unavailable = options.unavailable ?? 0;
  const chain: IotChain = {
    address: 'cof1relayer',
    chainId: () => Promise.resolve(chainId),
    submit(type, payload) {
      if (unavailable > 0) {
        unavailable--;
        return Promise.reject(new ChainUnavailableError('node down'));
      }
      submitted.push({ type, payload });
      return Promise.resolve(options.outcomes.shift()!);
    },
    device: (id) =>
      Promise.resolve(
        id === 'car-1'
          ? { device: { deviceId: id }, link: { wallet: 'wallet-1' } }
          : id === 'charger-1'
            ? { device: { deviceId: id, certificate: charger.certificatePem } }
            : undefined,
      ),
    session: (sd, sid) => Promise.resolve(options.sessions?.[`${sd}/${sid}`]),
    bill: (sd, sid, seq) => Promise.resolve(options.bills?.[`${sd}/${sid}/${seq}`]),
    health: () => Promise.resolve({}),
  };
  return { chain, submitted };
}

/** charger-1's certificate and key: the relay checks each message's signature before a tx. */
const charger = await issueParty({
  ca: await createCa({ name: 'Relay Test CA' }),
  deviceId: 'charger-1',
  role: 'service-device',
});
const chainId = 'test-chain';

const billFields = {
  serviceDevice: 'charger-1',
  iotDevice: 'car-1',
  sessionId: 's-1',
  seq: 2,
  detail: { usage: 10, unit: 'Wh' },
  amount: '3',
};
const bill = {
  bill: billFields,
  signature: signIotRequest('bill', chainId, billFields, charger.privateKeyPem),
};
const stored = {
  billTx: 'ab'.repeat(32),
  amount: '3',
  captured: '3',
  unpaid: '0',
  status: 'paid',
  remaining: '4997',
  payer: 'cof1payer',
  provider: 'cof1provider',
  asset: 'USD',
  height: 7,
};
const quiet = () => {};
const never = () => false;

describe('the payment relay', () => {
  it('relays a bill as iot.bill and sends the stored result to the three parties', async () => {
    const { chain, submitted } = fakeChain({
      outcomes: [{ status: 'ok', tx: stored.billTx, height: 7 }],
      bills: { 'charger-1/s-1/2': stored },
    });
    const relay = createPaymentRelay({ chain, log: quiet });
    const outcome = await relay.relay(parseIotMessage(JSON.stringify(bill)), never);
    assert.deepEqual(submitted, [{ type: 'iot.bill', payload: bill }], 'the message as it came');
    assert.deepEqual(outcome?.recipients, ['charger-1', 'car-1', 'wallet-1']);
    assert.equal(outcome?.result.status, 'paid');
    assert.equal(outcome?.result.tx, stored.billTx);
    assert.equal(outcome?.result.remaining, '4997');
    assert.equal(outcome?.result.replay, undefined);
  });

  it('answers a replayed bill with the stored result, marked replay', async () => {
    const { chain } = fakeChain({
      outcomes: [
        { status: 'rejected', code: 'bill_duplicate', message: 'seq 2 was billed', height: 9 },
      ],
      bills: { 'charger-1/s-1/2': stored },
    });
    const relay = createPaymentRelay({ chain, log: quiet });
    const outcome = await relay.relay(parseIotMessage(JSON.stringify(bill)), never);
    assert.equal(outcome?.result.replay, true);
    assert.equal(outcome?.result.tx, stored.billTx, 'the first payment’s tx');
    assert.equal(outcome?.result.status, 'paid');
  });

  it('passes a refusal’s code on to every party', async () => {
    const { chain } = fakeChain({
      outcomes: [
        {
          status: 'rejected',
          code: 'meter_reset',
          message: 'meter went back',
          tx: 'cd',
          height: 3,
        },
      ],
    });
    const outcome = await createPaymentRelay({ chain, log: quiet }).relay(
      parseIotMessage(JSON.stringify(bill)),
      never,
    );
    assert.equal(outcome?.result.status, 'rejected');
    assert.equal(outcome?.result.code, 'meter_reset');
    assert.deepEqual(outcome?.recipients, ['charger-1', 'car-1', 'wallet-1']);
  });

  it('relays no forged message: a wrong signature or an unknown service device costs no tx', async () => {
    const { chain, submitted } = fakeChain({ outcomes: [] });
    const relay = createPaymentRelay({ chain, log: quiet });
    const forgeries: [Record<string, unknown>, string][] = [
      [{ ...bill, signature: 'A'.repeat(86) }, 'signature_invalid'],
      // Signed by charger-1's key over another chain's bytes.
      [
        { ...bill, signature: signIotRequest('bill', 'other', billFields, charger.privateKeyPem) },
        'signature_invalid',
      ],
      [{ ...bill, bill: { ...billFields, amount: '4' } }, 'signature_invalid'],
      [{ ...bill, bill: { ...billFields, serviceDevice: 'charger-9' } }, 'iot_device_not_found'],
    ];
    for (const [message, code] of forgeries) {
      const outcome = await relay.relay(parseIotMessage(JSON.stringify(message)), never);
      assert.equal(outcome?.result.status, 'rejected');
      assert.equal(outcome?.result.code, code);
      // Told to the service device named, no one else.
      assert.deepEqual(outcome?.recipients, [(message.bill as typeof billFields).serviceDevice]);
    }
    assert.deepEqual(submitted, [], 'nothing signed, nothing sent');
  });

  it('finds an end message’s IoT device in the session record', async () => {
    const endFields = { serviceDevice: 'charger-1', sessionId: 's-1', meterEnd: 100, endedAt: 5 };
    const end = {
      end: endFields,
      signature: signIotRequest('end', chainId, endFields, charger.privateKeyPem),
    };
    const { chain, submitted } = fakeChain({
      outcomes: [{ status: 'ok', tx: 'ef', height: 12 }],
      sessions: { 'charger-1/s-1': { session: { iotDevice: 'car-1', status: 'ended' } } },
    });
    const outcome = await createPaymentRelay({ chain, log: quiet }).relay(
      parseIotMessage(JSON.stringify(end)),
      never,
    );
    assert.equal(submitted[0]?.type, 'iot.endSession');
    assert.equal(outcome?.result.status, 'ended');
    assert.deepEqual(outcome?.recipients, ['charger-1', 'car-1', 'wallet-1']);
  });

  it('retries while the node is unreachable, and gives up only when stopping', async () => {
    const { chain, submitted } = fakeChain({
      outcomes: [{ status: 'ok', tx: 'aa', height: 1 }],
      unavailable: 2,
    });
    const outcome = await createPaymentRelay({ chain, log: quiet }).relay(
      parseIotMessage(JSON.stringify(bill)),
      never,
    );
    assert.equal(outcome?.result.status, 'paid');
    assert.equal(submitted.length, 1);
    const stopping = fakeChain({ outcomes: [], unavailable: 1 });
    const none = await createPaymentRelay({ chain: stopping.chain, log: quiet }).relay(
      parseIotMessage(JSON.stringify(bill)),
      () => true,
    );
    assert.equal(none, undefined, 'left unacknowledged for the next run');
  });
});

describe('parseIotMessage', () => {
  it('refuses what it cannot route, naming why', () => {
    const refused = (
      value: unknown,
      pattern: RegExp,
      from?: Parameters<typeof parseIotMessage>[1],
    ) =>
      assert.throws(
        () => parseIotMessage(JSON.stringify(value), from),
        (error: Error & { code?: string }) =>
          error.code === 'invalid_message' && pattern.test(error.message),
      );
    refused({ hello: 1 }, /none of/);
    refused({ ...bill, extra: 1 }, /extra|Unrecognized/i);
    refused({ bill: { ...bill.bill, seq: 0 }, signature: 'x' }, /seq/);
    refused(
      { bill: { ...bill.bill, serviceDevice: 'Charger 1' }, signature: 'x' },
      /serviceDevice/,
    );
    refused(bill, /names service device charger-1/, {
      topicDevice: 'charger-2',
      topicKind: 'bills',
    });
    refused(bill, /does not belong on sessions/, {
      topicDevice: 'charger-1',
      topicKind: 'sessions',
    });
    assert.throws(() => parseIotMessage('{'), /not JSON/);
  });
});
