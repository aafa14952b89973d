import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ConversionAssetRecord } from '../client.js';
import {
  blockIntervalText,
  bpsText,
  countText,
  networkText,
  percentFromBps,
  unitsText,
} from './words.js';

const asset = (decimals: number, symbol = 'USD'): ConversionAssetRecord => ({
  ecosystem: 'home',
  asset: symbol,
  decimals,
  currency: 'USD',
  liquidityLow: '0',
  liquidityHigh: '0',
  pairCount: 0,
  updatedAtHeight: 1,
});

describe('the conversion pages in words', () => {
  it('basis points as an exact percentage, without trailing zeros', () => {
    assert.equal(percentFromBps(0), '0%');
    assert.equal(percentFromBps(1), '0.01%');
    assert.equal(percentFromBps(10), '0.1%');
    assert.equal(percentFromBps(25), '0.25%');
    assert.equal(percentFromBps(100), '1%');
    assert.equal(percentFromBps(150), '1.5%');
    assert.equal(percentFromBps(1234), '12.34%');
    assert.equal(percentFromBps(5000), '50%');
    assert.equal(percentFromBps(10_000), '100%');
    assert.equal(bpsText(75), '0.75% (75 bps)');
  });

  it("minor units in the asset's units, every decimal kept; minor units when unknown", () => {
    assert.equal(unitsText('150000', asset(2)), '1500.00 USD');
    assert.equal(unitsText('5', asset(2)), '0.05 USD');
    assert.equal(unitsText('0', asset(6, 'USDC')), '0.000000 USDC');
    assert.equal(unitsText('7', asset(0, 'PTS')), '7 PTS');
    assert.equal(unitsText('1000000000000000000', asset(18, 'ETH')), '1.000000000000000000 ETH');
    // Beyond Number's exact integers: BigInt all the way.
    assert.equal(unitsText('123456789012345678901', asset(2)), '1234567890123456789.01 USD');
    assert.equal(unitsText('42', undefined), '42 minor units');
  });

  it("an ecosystem's network and block interval", () => {
    assert.equal(networkText({ kind: 'coffer', network: 'coffer-home' }), 'chain coffer-home');
    assert.equal(networkText({ kind: 'evm', network: '137' }), 'chain id 137');
    assert.equal(networkText({ kind: 'http', network: 'acme-pay' }), 'provider acme-pay');
    assert.equal(blockIntervalText({ blockMsMin: 50, blockMsMax: 2000 }), '50 to 2000 ms');
    assert.equal(blockIntervalText({ blockMsMin: 1000, blockMsMax: 1000 }), '1000 ms');
    assert.equal(blockIntervalText({}), '—');
  });

  it('counts with their nouns', () => {
    assert.equal(countText(1, 'hop'), '1 hop');
    assert.equal(countText(0, 'pair'), '0 pairs');
    assert.equal(countText(3, 'ecosystem'), '3 ecosystems');
  });
});
