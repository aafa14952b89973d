import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { AgreementRecord, Policy } from '../client.js';
import {
  agreementStateText,
  amountText,
  gatewayOrigin,
  permissionLines,
  priceOf,
  royaltiesOf,
  sizeText,
  usesLeft,
} from './words.js';

const policy: Policy = {
  permission: [
    {
      action: 'play',
      constraint: [
        { leftOperand: 'count', operator: 'lteq', rightOperand: 3 },
        { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'DE'] },
        { leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: 2 * 3_600_000 },
      ],
    },
    {
      action: 'display',
      constraint: [{ leftOperand: 'deviceCount', operator: 'lteq', rightOperand: 1 }],
    },
  ],
  prohibition: [{ action: 'distribute' }],
  duty: [{ action: 'compensate', payAmount: '1250', unit: 'USD' }],
};

describe('licensing pages: words', () => {
  it('says a policy in sentences and finds its price', () => {
    assert.deepEqual(permissionLines(policy), [
      'Play at most 3 times in FR, DE for 2 hours after purchase',
      'Display on one device',
      'Never distribute',
    ]);
    assert.deepEqual(priceOf(policy), { amount: '1250', asset: 'USD' });
    assert.equal(priceOf({ permission: [{ action: 'play' }] }), undefined);
  });

  it('writes amounts in the asset units without floats, sizes in binary units', () => {
    assert.equal(amountText('1250', 'USD', { symbol: 'USD', decimals: 2 }), '12.50 USD');
    assert.equal(amountText('7', 'XYZ', undefined), '7 XYZ (minor units)');
    assert.equal(sizeText(512), '512 bytes');
    assert.equal(sizeText(229_139), '223.8 KiB');
  });

  it('counts uses left and the state at a time', () => {
    const agreement = { policy, used: { play: 2 }, status: 'active' as const, expiresAt: 1_000 };
    assert.equal(usesLeft(agreement, 'play'), 1);
    assert.equal(usesLeft(agreement, 'display'), null);
    assert.equal(usesLeft({ ...agreement, used: { play: 9 } }, 'play'), 0);
    assert.equal(agreementStateText(agreement, 999), 'Active until 1970-01-01 00:00 UTC');
    assert.equal(agreementStateText(agreement, 1_000), 'Expired');
    assert.equal(agreementStateText({ ...agreement, status: 'revoked' }, 0), 'Revoked');
  });

  it('sums the royalties an account received, per asset, by role, in BigInt', () => {
    const paid = (asset: string, splits: [string, string, 'title' | 'offerer'][]) =>
      ({
        paid: {
          asset,
          amount: splits.reduce((s, [, a]) => s + BigInt(a), 0n).toString(),
          splits: splits.map(([to, amount, role]) => ({ to, amount, role })),
        },
      }) as Pick<AgreementRecord, 'paid'>;
    const huge = '90071992547409930';
    const royalties = royaltiesOf(
      [
        paid('USD', [
          ['creator', '333', 'title'],
          ['publisher', '667', 'offerer'],
        ]),
        paid('USD', [['creator', huge, 'title']]),
        paid('EUR', [['creator', '5', 'offerer']]),
        {},
      ],
      'creator',
    );
    assert.deepEqual(royalties, [
      { asset: 'EUR', title: 0n, offerer: 5n },
      { asset: 'USD', title: 333n + BigInt(huge), offerer: 0n },
    ]);
  });

  it('takes a gateway address as an http(s) origin only', () => {
    assert.equal(gatewayOrigin(' http://127.0.0.1:7500/x '), 'http://127.0.0.1:7500');
    assert.equal(gatewayOrigin('javascript:alert(1)'), undefined);
    assert.equal(gatewayOrigin('gateway'), undefined);
  });
});
