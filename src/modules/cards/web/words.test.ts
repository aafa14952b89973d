import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CardDeviceRecord } from '../client.js';
import { declineText, durationText, expiryShort, inkOn, paymentsLeft } from './words.js';

describe('the cards pages in words', () => {
  it('a token life in its largest whole unit', () => {
    assert.equal(durationText(30 * 24 * 3_600_000), '30 days');
    assert.equal(durationText(24 * 3_600_000), '1 day');
    assert.equal(durationText(3_600_000), '1 hour');
    assert.equal(durationText(90 * 60_000), '90 minutes');
    assert.equal(durationText(61_500), '62 seconds');
  });

  it("a decline's code as the module that declines it says it, or the code", () => {
    assert.equal(declineText('card_closed'), 'The card is closed.');
    assert.equal(
      declineText('insufficient_funds'),
      'The account does not hold enough of the asset.',
    );
    assert.match(declineText('token_domain_expired'), /domain/i);
    assert.equal(declineText('something_new'), 'something_new');
    assert.equal(declineText('toString'), 'toString');
  });

  it('the ink that reads on a face, and the expiry as a card prints it', () => {
    assert.equal(inkOn('#1f4e79'), '#ffffff');
    assert.equal(inkOn('#000000'), '#ffffff');
    assert.equal(inkOn('#ffd400'), '#111111');
    assert.equal(inkOn('#ffffff'), '#111111');
    assert.equal(expiryShort('2030-11'), '11/30');
  });

  it('payments left: unused tokens not expired at the block time; none on a device not active', () => {
    const link = {
      status: 'active',
      outstanding: [
        { token: 'a', expiresAt: 100 },
        { token: 'b', expiresAt: 200 },
        { token: 'c', expiresAt: 300 },
      ],
    } as CardDeviceRecord;
    assert.deepEqual(
      paymentsLeft(link, 200).map((t) => t.token),
      ['b', 'c'],
    );
    assert.deepEqual(paymentsLeft({ ...link, status: 'removed' }, 0), []);
    assert.deepEqual(paymentsLeft({ ...link, status: 'pending' }, 0), []);
  });
});
