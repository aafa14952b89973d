import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { ModuleRegistry } from '../../chain/index.js';
import {
  CryptoInputError,
  canonicalBytes,
  publicKeyFromAddress,
  sha256Hex,
  signingMessage,
  toHex,
  fromHex,
  verify,
} from '../../crypto/index.js';
import * as moduleApi from './index.js';
import type { CofferClient } from '../../sdk/client.js';
import { rejection, startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import {
  formatMinutes,
  hashUserId,
  issuanceRequestHash,
  authorizeIssuance,
  minutesMax,
  parseHours,
  signIssuanceRequest,
  timebankIdOf,
  timebankTxs,
} from './client.js';

const registry = new ModuleRegistry([moduleApi.timecreditsModule]);

/** What the node runs on a payload of `type`: the module's parser, found through the registry. */
function parse(tx: { type: string; payload: Record<string, unknown> }) {
  const parser = registry.parserFor(tx.type);
  assert.ok(parser, `the module defines ${tx.type}`);
  // As the node sees it: the payload after a JSON round trip.
  return parser(JSON.parse(JSON.stringify(tx.payload)) as Record<string, unknown>);
}

/** JSON for messages: a parsed payload holds bigints. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function fieldError(field: string) {
  return (error: unknown) => error instanceof CryptoInputError && error.field === field;
}

const bankId = '0123456789abcdef';
const otherBankId = 'fedcba9876543210';
const salt = 'ab'.repeat(32);
const alice = generateKey().address;
const bob = generateKey().address;

describe('time bank tx builders', () => {
  const built = [
    timebankTxs.create({
      name: 'Riverside',
      coordinators: [alice],
      policy: { kind: 'none' },
      creditLimitMinutes: 0n,
    }),
    timebankTxs.create({
      name: 'Expiring',
      coordinators: [alice, bob],
      policy: { kind: 'expiry', expiryDays: 365, noticeDays: 30 },
      creditLimitMinutes: '600',
    }),
    timebankTxs.create({
      name: 'Expiring, default notice',
      coordinators: [alice],
      policy: { kind: 'expiry', expiryDays: 30 },
      creditLimitMinutes: '0',
    }),
    timebankTxs.create({
      name: 'Demurrage',
      coordinators: [alice],
      policy: { kind: 'demurrage', ratePerPeriodBasisPoints: 100, periodDays: 30 },
      creditLimitMinutes: 120n,
    }),
    timebankTxs.addCoordinator({ bankId, account: bob }),
    timebankTxs.removeCoordinator({ bankId, account: bob }),
    timebankTxs.addMember({ bankId, userIdHash: hashUserId(salt, 'ann@example.org') }),
    timebankTxs.addMember({ bankId, account: bob, userIdHash: hashUserId(salt, 'bob') }),
    timebankTxs.approveMember({ bankId, account: bob }),
    timebankTxs.rejectMember({ bankId, account: alice }),
    timebankTxs.setPolicy({ bankId, policy: { kind: 'expiry', expiryDays: 10, noticeDays: 2 } }),
    timebankTxs.setPolicy({ bankId, creditLimitMinutes: 90n }),
    timebankTxs.setPolicy({
      bankId,
      policy: { kind: 'demurrage', ratePerPeriodBasisPoints: 50, periodDays: 7 },
      creditLimitMinutes: '0',
    }),
    timebankTxs.issue({ bankId, account: bob, minutes: 600n, requestId: 'req-1' }),
    timebankTxs.issue({
      bankId,
      userIdHash: hashUserId(salt, 'bob'),
      minutes: '30',
      requestId: 'req_2',
      authorization: { coordinator: alice, signature: 'cd'.repeat(64) },
    }),
    timebankTxs.recordExchange({ bankId, recipient: bob, minutes: 180n }),
    timebankTxs.recordExchange({
      bankId,
      recipient: bob,
      minutes: '45',
      offer: 'Gardening',
      listing: 3,
    }),
    timebankTxs.confirmExchange({ bankId, exchange: 0 }),
    timebankTxs.postListing({
      bankId,
      kind: 'offer',
      title: 'Bicycle repair',
      category: 'repairs',
      minutes: 60n,
    }),
    timebankTxs.postListing({
      bankId,
      kind: 'request',
      title: 'Lift to the station',
      category: 'transport',
      minutes: '30',
    }),
    timebankTxs.closeListing({ bankId, listing: 7 }),
    timebankTxs.payMany({
      bankId,
      payments: [
        { account: alice, minutes: 60n },
        { account: bob, minutes: '90' },
      ],
    }),
    timebankTxs.proposeAlliance({ bankId, partnerBankId: otherBankId }),
    timebankTxs.acceptAlliance({ bankId, partnerBankId: otherBankId }),
    timebankTxs.endAlliance({ bankId, partnerBankId: otherBankId }),
    timebankTxs.transferAcross({ bankId, toBankId: otherBankId, to: bob, minutes: 15n }),
  ];

  it('every builder names a tx type of the module, and the module parses its payload', () => {
    const types = new Set(built.map((tx) => tx.type));
    assert.deepEqual(
      [...types].sort(),
      registry.txTypes().filter((t) => t.startsWith('timebank.') || t.startsWith('timecredits.')),
      'one builder per tx type of the module',
    );
    for (const tx of built) {
      const parsed = parse(tx);
      assert.ok('value' in parsed, `${tx.type} ${show(tx.payload)}: ${show(parsed)}`);
    }
  });

  it('minutes travel as decimal strings; undefined optional fields are left out', () => {
    const tx = timebankTxs.recordExchange({ bankId, recipient: bob, minutes: 150n });
    assert.deepEqual(tx, {
      type: 'timecredits.recordExchange',
      payload: { bankId, recipient: bob, minutes: '150' },
    });
    assert.deepEqual(
      Object.keys(timebankTxs.setPolicy({ bankId, creditLimitMinutes: 0n }).payload),
      ['bankId', 'creditLimitMinutes'],
    );
  });

  it('the module refuses what it should: a payload the builders can express but the rules forbid', () => {
    // Not whole-minute input errors (the builders throw for those), but rules only the module knows.
    const cases: [{ type: string; payload: Record<string, unknown> }, string][] = [
      [timebankTxs.issue({ bankId, minutes: 0n, requestId: 'r', account: bob }), 'invalid_minutes'],
      [timebankTxs.issue({ bankId, minutes: 1n, requestId: 'r' }), 'invalid_issue_target'],
      [timebankTxs.confirmExchange({ bankId: 'nope', exchange: 0 }), 'invalid_bank_id'],
    ];
    for (const [tx, code] of cases) {
      const parsed = parse(tx);
      assert.ok('code' in parsed && parsed.code === code, `${tx.type}: ${show(parsed)}`);
    }
  });

  it('builders refuse minutes that are not whole, naming the field', () => {
    assert.throws(
      () => timebankTxs.recordExchange({ bankId, recipient: bob, minutes: '1.5' }),
      fieldError('minutes'),
    );
    assert.throws(
      () => timebankTxs.recordExchange({ bankId, recipient: bob, minutes: -1n }),
      fieldError('minutes'),
    );
    assert.throws(
      () => timebankTxs.payMany({ bankId, payments: [{ account: bob, minutes: '01' }] }),
      fieldError('payments[0].minutes'),
    );
    assert.throws(
      () =>
        timebankTxs.create({
          name: 'x',
          coordinators: [alice],
          policy: { kind: 'none' },
          creditLimitMinutes: '',
        }),
      fieldError('creditLimitMinutes'),
    );
  });

  it('the bank id is the first 16 hex digits of the create tx hash, as the module says', () => {
    const hash = 'a1'.repeat(32);
    assert.equal(timebankIdOf(hash), moduleApi.bankIdOf(hash));
    assert.equal(timebankIdOf(hash), 'a1a1a1a1a1a1a1a1');
    assert.throws(() => timebankIdOf('A1'.repeat(32)), fieldError('createTxHash'));
  });
});

describe('user identifiers and issuance requests', () => {
  const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex);

  // Once the SDK and the module had a copy each and this compared them; with one definition it
  // checks the one against the formula it documents.
  it('property: hashUserId is SHA-256 of the domain, the salt and the identifier', () => {
    fc.assert(
      fc.property(hex64, fc.string({ minLength: 1, maxLength: 40 }), (s, userId) => {
        assert.equal(
          hashUserId(s, userId),
          sha256Hex(`coffer/timecredits/user/v1\0${s}\0${userId}`),
        );
        assert.equal(moduleApi.hashUserId, hashUserId, 'the module and the SDK share it');
      }),
    );
  });

  it('hashUserId checks its inputs', () => {
    assert.throws(() => hashUserId('ab', 'x'), fieldError('salt'));
    assert.throws(() => hashUserId(salt, ''), fieldError('userId'));
    assert.notEqual(hashUserId(salt, 'Ann'), hashUserId(salt, 'ann'));
  });

  it('property: issuanceRequestHash is SHA-256 of the canonical fields, by user id hash or by account', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.stringMatching(/^[0-9a-f]{16}$/),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        hex64,
        fc.bigInt({ min: 1n, max: minutesMax }),
        fc.boolean(),
        (chainId, bank, requestId, userIdHash, minutes, byAccount) => {
          const member = byAccount ? { account: alice } : { userIdHash };
          const fields = { chainId, bankId: bank, requestId, ...member };
          const expected = sha256Hex(canonicalBytes({ ...fields, minutes: minutes.toString() }));
          assert.equal(issuanceRequestHash({ ...fields, minutes }), expected);
          assert.equal(issuanceRequestHash({ ...fields, minutes: minutes.toString() }), expected);
        },
      ),
    );
  });

  it('hashes the fixed request of the module tests to the same value', () => {
    assert.equal(
      issuanceRequestHash({
        chainId: 'coffer-test',
        bankId: '0123456789abcdef',
        requestId: 'req-42',
        userIdHash: 'ab'.repeat(32),
        minutes: 600n,
      }),
      'ff2822f68ec1810ffb90b45ac8c76b2cf47e27e352df489e9f21afac261e6930',
    );
  });

  it('issuanceRequestHash checks its inputs, naming the field', () => {
    const good = {
      chainId: 'coffer-dev',
      bankId,
      requestId: 'r-1',
      userIdHash: 'ab'.repeat(32),
      minutes: '60',
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ chainId: '' }, 'chainId'],
      [{ bankId: 'ABCDEF0123456789' }, 'bankId'],
      [{ requestId: 'has space' }, 'requestId'],
      [{ requestId: 'x'.repeat(65) }, 'requestId'],
      [{ userIdHash: 'ab' }, 'userIdHash'],
      [{ account: alice }, 'userIdHash'],
      [{ userIdHash: undefined, account: 'cof1nope' }, 'account'],
      [{ userIdHash: undefined }, 'userIdHash'],
      [{ minutes: '0' }, 'minutes'],
      [{ minutes: (minutesMax + 1n).toString() }, 'minutes'],
      [{ minutes: '1.5' }, 'minutes'],
    ];
    for (const [change, field] of cases) {
      assert.throws(
        () => issuanceRequestHash({ ...good, ...change }),
        fieldError(field),
        JSON.stringify(change),
      );
    }
  });

  it("a signed request verifies under the coordinator's key with the signing domain of src/crypto", () => {
    const coordinator = generateKey();
    const body = signIssuanceRequest(coordinator, {
      chainId: 'coffer-dev',
      bank: { id: bankId, salt },
      requestId: 'req-7',
      userId: 'ann@example.org',
      minutes: 150n,
    });
    assert.deepEqual(Object.keys(body).sort(), [
      'coordinator',
      'minutes',
      'requestId',
      'signature',
      'userId',
    ]);
    assert.equal(body.minutes, '150');
    assert.equal(body.coordinator, coordinator.address);
    const hash = moduleApi.issuanceRequestHash({
      chainId: 'coffer-dev',
      bankId,
      requestId: 'req-7',
      userIdHash: moduleApi.hashUserId(salt, 'ann@example.org'),
      minutes: '150',
    });
    const publicKey = publicKeyFromAddress(coordinator.address);
    const signature = fromHex(body.signature, 'signature', 64);
    assert.ok(verify(signature, signingMessage('issuanceRequest', hash), publicKey));
    // Bound to the chain, the amount and the user: another of any is another message.
    for (const change of [{ chainId: 'other' }, { minutes: '151' }, { requestId: 'req-8' }]) {
      const other = moduleApi.issuanceRequestHash({
        chainId: 'coffer-dev',
        bankId,
        requestId: 'req-7',
        userIdHash: moduleApi.hashUserId(salt, 'ann@example.org'),
        minutes: '150',
        ...change,
      });
      assert.ok(!verify(signature, signingMessage('issuanceRequest', other), publicKey));
    }
  });

  it('signIssuanceRequest refuses a key or bank it cannot use', () => {
    const input = {
      chainId: 'coffer-dev',
      bank: { id: bankId, salt },
      requestId: 'r',
      userId: 'u',
      minutes: 1n,
    };
    assert.throws(
      () => signIssuanceRequest({ address: 'nope', secretKey: '00' }, input),
      fieldError('key'),
    );
    assert.throws(
      () => signIssuanceRequest(generateKey(), { ...input, bank: { id: bankId, salt: 'x' } }),
      fieldError('salt'),
    );
    assert.throws(
      () => signIssuanceRequest(generateKey(), { ...input, minutes: 0n }),
      fieldError('minutes'),
    );
  });
});

describe('hours on the command line: parseHours and formatMinutes', () => {
  it('reads H, H:MM, Nm and decimal hours', () => {
    const cases: [string, bigint][] = [
      ['10', 600n],
      ['0', 0n],
      ['2:30', 150n],
      ['0:05', 5n],
      ['0:00', 0n],
      ['100:59', 6059n],
      ['90m', 90n],
      ['0m', 0n],
      ['1.5', 90n],
      ['0.25', 15n],
      ['0.1', 6n],
      ['2.05', 123n],
      ['1.500', 90n],
      ['16666666:40', minutesMax],
      [`${minutesMax}m`, minutesMax],
    ];
    for (const [text, minutes] of cases) assert.equal(parseHours(text), minutes, text);
  });

  it('refuses what is not whole minutes or not hours, naming the field', () => {
    const bad = [
      '',
      ' 1',
      '1 ',
      '-1',
      '+1',
      '1:60',
      '1:5',
      '1:005',
      ':30',
      '1:',
      '0.01',
      '1.01',
      '1.',
      '.5',
      '1e3',
      '1,5',
      '1h',
      '90 m',
      '90M',
      '1.5m',
      '2:30m',
      'abc',
      `${minutesMax + 1n}m`,
      '16666666:41',
      '99999999999',
    ];
    for (const text of bad) {
      assert.throws(() => parseHours(text, '--hours'), fieldError('--hours'), JSON.stringify(text));
    }
    assert.throws(() => parseHours('0.01'), /not a whole number of minutes/);
    assert.throws(() => parseHours('abc'), /H:MM/);
  });

  it('formats minutes as H:MM, negative ones with a sign', () => {
    const cases: [bigint | string, string][] = [
      [0n, '0:00'],
      [5n, '0:05'],
      [60n, '1:00'],
      [150n, '2:30'],
      ['150', '2:30'],
      [-90n, '-1:30'],
      ['-5', '-0:05'],
      [6059n, '100:59'],
    ];
    for (const [minutes, text] of cases)
      assert.equal(formatMinutes(minutes), text, String(minutes));
    assert.throws(() => formatMinutes('1.5'), fieldError('minutes'));
  });

  it('property: parseHours(formatMinutes(m)) is m, and so is parseHours(`${m}m`)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: minutesMax }), (minutes) => {
        assert.equal(parseHours(formatMinutes(minutes)), minutes);
        assert.equal(parseHours(`${minutes}m`), minutes);
      }),
      { numRuns: 500 },
    );
  });

  it('property: decimal hours with up to 9 digits parse exactly when they make whole minutes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.stringMatching(/^[0-9]{1,9}$/),
        (hours, fraction) => {
          const text = `${hours}.${fraction}`;
          const scale = 10n ** BigInt(fraction.length);
          const sixtieths = BigInt(fraction) * 60n;
          if (sixtieths % scale === 0n) {
            assert.equal(parseHours(text), BigInt(hours) * 60n + sixtieths / scale);
          } else {
            assert.throws(() => parseHours(text), CryptoInputError);
          }
        },
      ),
    );
  });
});

describe('client.timebanks against a real node', { timeout: 30_000 }, () => {
  let testNode: TestNode;
  let client: CofferClient;
  let dev: SigningKey;
  let bank: string;
  const coordinator = generateKey();
  const ann = generateKey();
  const ben = generateKey();

  before(async () => {
    testNode = await startTestNode('sdk-timebanks');
    ({ client, dev } = testNode);
    const created = await client.send(
      dev,
      timebankTxs.create({
        name: 'SDK test bank',
        coordinators: [coordinator.address],
        policy: { kind: 'expiry', expiryDays: 30, noticeDays: 5 },
        creditLimitMinutes: 120n,
      }),
    );
    bank = timebankIdOf(created.hash);
    const { salt: bankSalt } = await client.timebanks.get(bank);
    await client.send(
      ann,
      timebankTxs.addMember({ bankId: bank, userIdHash: hashUserId(bankSalt, 'ann') }),
    );
    await client.send(
      coordinator,
      timebankTxs.addMember({
        bankId: bank,
        account: ben.address,
        userIdHash: hashUserId(bankSalt, 'ben'),
      }),
    );
  });

  after(async () => {
    await testNode.close();
  });

  it('reads the bank and its members', async () => {
    const record = await client.timebanks.get(bank);
    assert.equal(record.id, bank);
    assert.equal(record.name, 'SDK test bank');
    assert.deepEqual(record.coordinators, [coordinator.address]);
    assert.deepEqual(record.policy, { kind: 'expiry', expiryDays: 30, noticeDays: 5 });
    assert.equal(record.creditLimitMinutes, '120');
    assert.equal(record.memberCount, 2);
    const pending = await client.timebanks.member(bank, ann.address);
    assert.equal(pending.status, 'pending');
    assert.equal(pending.userIdHash, hashUserId(record.salt, 'ann'));
    assert.equal((await client.timebanks.member(bank, ben.address)).status, 'approved');
  });

  it('issues through a signed issuance request, then reads the request, lot and statement', async () => {
    await client.send(
      coordinator,
      timebankTxs.approveMember({ bankId: bank, account: ann.address }),
    );
    const recorded = await client.timebanks.requestIssuance(coordinator, {
      bankId: bank,
      requestId: 'sdk-1',
      userId: 'ann',
      minutes: 600n,
    });
    assert.equal(recorded.status, 'recorded');
    assert.equal(recorded.account, ann.address);
    assert.equal(recorded.minutes, '600');
    assert.equal(typeof recorded.height, 'number');
    assert.match(recorded.txHash, /^[0-9a-f]{64}$/);
    const looked = await client.timebanks.issuance(bank, 'sdk-1');
    assert.equal(looked.status, 'recorded');
    assert.equal(looked.txHash, recorded.txHash);
    assert.equal(looked.lot, recorded.lot);
    // Posting the same request again answers its record rather than issuing twice.
    const again = await client.timebanks.requestIssuance(coordinator, {
      bankId: bank,
      requestId: 'sdk-1',
      userId: 'ann',
      minutes: 600n,
    });
    assert.equal(again.txHash, recorded.txHash);
    assert.equal((await client.timebanks.get(bank)).issuedMinutes, '600');

    const lot = await client.timebanks.lot(bank, recorded.lot!);
    assert.equal(lot.owner, ann.address);
    assert.equal(lot.amount, '600');
    assert.equal(lot.origin, 'issue:sdk-1');
    assert.equal(lot.expiresAt, lot.baseTime + 30 * 86_400_000);

    const statement = await client.timebanks.statement(bank, ann.address);
    assert.equal(statement.balanceMinutes, '600');
    assert.deepEqual(
      statement.lots.map((l) => [l.lot, l.minutes, l.baseTime]),
      [[lot.number, '600', lot.baseTime]],
    );
    const csv = await client.timebanks.statementCsv(bank, ann.address);
    assert.match(csv.split('\n')[0]!, /lot/i);
    assert.ok(csv.includes('issue:sdk-1'), csv);
  });

  it('without wait, a request answers pending with its tx hash', async () => {
    const pending = await client.timebanks.requestIssuance(
      coordinator,
      { bankId: bank, requestId: 'sdk-2', userId: 'ben', minutes: '30' },
      {},
    );
    assert.equal(pending.status, 'pending');
    assert.match(pending.txHash, /^[0-9a-f]{64}$/);
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const found = await client.timebanks.issuance(bank, 'sdk-2');
      if (found.status === 'recorded') {
        assert.equal(found.account, ben.address);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail('the request was not recorded');
  });

  it("any account relays an issue tx with a coordinator's authorization", async () => {
    const { chainId } = await client.health();
    const fields = { chainId, bankId: bank, requestId: 'relayed-1', account: ben.address };
    const result = await client.send(
      dev,
      timebankTxs.issue({
        ...fields,
        minutes: 15n,
        authorization: authorizeIssuance(coordinator, { ...fields, minutes: 15n }),
      }),
    );
    assert.equal(result.status, 'ok');
    const recorded = await client.timebanks.issuance(bank, 'relayed-1');
    assert.deepEqual(
      [recorded.status, recorded.account, recorded.minutes],
      ['recorded', ben.address, '15'],
    );
    // Signed for other minutes, the authorization does not cover these.
    const forged = await rejection(
      client.send(
        dev,
        timebankTxs.issue({
          ...fields,
          requestId: 'relayed-2',
          minutes: 16n,
          authorization: authorizeIssuance(coordinator, {
            ...fields,
            requestId: 'relayed-2',
            minutes: 15n,
          }),
        }),
      ),
    );
    assert.deepEqual([forged.code, forged.committed], ['issuance_signature_invalid', true]);
  });

  it('records and confirms an exchange; posts, lists and reads listings', async () => {
    await client.send(
      ben,
      timebankTxs.postListing({
        bankId: bank,
        kind: 'offer',
        title: 'Bicycle repair',
        category: 'repairs',
        minutes: 90n,
      }),
    );
    const page = await client.timebanks.listings(bank, { kind: 'offer', category: 'repairs' });
    assert.equal(page.listings.length, 1);
    const [listing] = page.listings;
    assert.equal(listing!.title, 'Bicycle repair');
    assert.equal(listing!.owner, ben.address);
    assert.equal(listing!.status, 'open');
    assert.deepEqual(await client.timebanks.listing(bank, listing!.number), listing);
    assert.deepEqual((await client.timebanks.listings(bank, { kind: 'request' })).listings, []);

    await client.send(
      ben,
      timebankTxs.recordExchange({
        bankId: bank,
        recipient: ann.address,
        minutes: 90n,
        listing: listing!.number,
      }),
    );
    const exchange = await client.timebanks.exchange(bank, 0);
    assert.equal(exchange.provider, ben.address);
    assert.equal(exchange.status, 'pending');
    await client.send(ann, timebankTxs.confirmExchange({ bankId: bank, exchange: 0 }));
    assert.equal((await client.timebanks.exchange(bank, 0)).status, 'completed');
    assert.equal((await client.timebanks.statement(bank, ann.address)).balanceMinutes, '510');
  });

  it('reads an alliance between two banks', async () => {
    const other = timebankIdOf(
      (
        await client.send(
          dev,
          timebankTxs.create({
            name: 'Partner',
            coordinators: [dev.address],
            policy: { kind: 'none' },
            creditLimitMinutes: 0n,
          }),
        )
      ).hash,
    );
    await client.send(
      coordinator,
      timebankTxs.proposeAlliance({ bankId: bank, partnerBankId: other }),
    );
    const proposed = await client.timebanks.alliance(bank, other);
    assert.equal(proposed.status, 'proposed');
    assert.equal(proposed.proposedBy, bank);
    await client.send(dev, timebankTxs.acceptAlliance({ bankId: other, partnerBankId: bank }));
    assert.equal((await client.timebanks.alliance(other, bank)).status, 'active');
  });

  it("errors carry the API's code, field and status", async () => {
    const cases: [Promise<unknown>, string, number][] = [
      [client.timebanks.get('0000000000000000'), 'timebank_not_found', 404],
      [client.timebanks.get('nope'), 'invalid_bank_id', 400],
      [client.timebanks.member(bank, generateKey().address), 'member_not_found', 404],
      [client.timebanks.statementCsv(bank, generateKey().address), 'member_not_found', 404],
      [client.timebanks.issuance(bank, 'never'), 'issuance_request_not_found', 404],
      [
        client.timebanks.requestIssuance(ann, {
          bankId: bank,
          requestId: 'not-mine',
          userId: 'ann',
          minutes: 1n,
        }),
        'not_coordinator',
        403,
      ],
      [
        client.timebanks.requestIssuance(coordinator, {
          bankId: bank,
          requestId: 'nobody',
          userId: 'nobody',
          minutes: 1n,
        }),
        'user_not_found',
        404,
      ],
    ];
    for (const [call, code, status] of cases) {
      const error = await rejection(call);
      assert.deepEqual({ code: error.code, status: error.status }, { code, status });
    }
    // Bad input is the SDK's own error, before any request.
    await assert.rejects(
      client.timebanks.requestIssuance(coordinator, {
        bankId: bank,
        requestId: 'bad id',
        userId: 'ann',
        minutes: 1n,
      }),
      fieldError('requestId'),
    );
  });
});
