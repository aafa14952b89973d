import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { amountMax } from '../../../ledger/amount.js';
import type { AssetInfo, Pair, Route } from './graph.js';
import { nodeKey } from './graph.js';
import { amountArbitrary, nowMs, termsOf, worldArbitrary, type World } from './pricing-fixture.js';
import { hopBackward, hopForward, priceRoute, type QuoteTerms } from './quote.js';
import { currencyMapping, tableRates, type RateSource } from './rates.js';
import { rational } from './rational.js';
import { enumerateRoutes } from './route.js';

const usd: AssetInfo = { ecosystem: 'chain-a', asset: 'USD', decimals: 2 };
const usdc: AssetInfo = { ecosystem: 'evm', asset: 'USDC', decimals: 6 };
const eur: AssetInfo = { ecosystem: 'provider', asset: 'EUR', decimals: 2 };

const usdToUsdc: Pair = {
  from: usd,
  to: usdc,
  spreadBps: 10,
  feeBps: 20,
  feeFixed: 100_000n, // 0.10 USDC
  min: 100n,
  max: 1_000_000n,
  enabled: true,
};
const usdcToEur: Pair = {
  from: usdc,
  to: eur,
  spreadBps: 0,
  feeBps: 0,
  feeFixed: 0n,
  min: 1_000_000n,
  max: 10n ** 12n,
  enabled: true,
};
const route: Route = { nodes: [usd, usdc, eur], pairs: [usdToUsdc, usdcToEur] };

const parsed = tableRates({ 'USD/EUR': '0.9231' }, nowMs - 60_000);
assert.ok(parsed.ok);
const rates: RateSource = parsed.source;

function terms(fields: Partial<QuoteTerms> = {}): QuoteTerms {
  return {
    currencyOf: currencyMapping([
      { ecosystem: 'chain-a', asset: 'USD', currency: 'USD' },
      { ecosystem: 'evm', asset: 'USDC', currency: 'USD' },
      { ecosystem: 'provider', asset: 'EUR', currency: 'EUR' },
    ]),
    nowMs,
    ratesAgeMaxMs: 3_600_000,
    slippageBpsMax: 50,
    liquidity: () => 10n ** 18n,
    ...fields,
  };
}

describe('priceRoute: a worked example (100.00 USD on chain-a to EUR at the provider)', () => {
  it('prices a fixed input, each hop rounding its output down', () => {
    const result = priceRoute(route, rates, { from: 10_000n }, terms());
    assert.ok(result.ok, result.ok ? '' : result.code);
    const { quote } = result;
    assert.equal(quote.rounding, 'floor_out');
    assert.deepEqual(
      quote.hops.map((h) => [h.amountIn, h.fee, h.amountOut]),
      [
        // 100.00 USD at 0.999 is 99.900000 USDC; fee 0.2% (0.199800) + 0.10 = 0.299800.
        [10_000n, 299_800n, 99_600_200n],
        // 99.600200 USDC at 0.9231 is 91.94094462 EUR, rounded down to 91.94.
        [99_600_200n, 0n, 9_194n],
      ],
    );
    assert.deepEqual(quote.hops[0]!.midRate, rational(1n, 1n));
    assert.deepEqual(quote.hops[0]!.rate, rational(999n, 1000n));
    assert.deepEqual(quote.hops[1]!.rate, rational(9231n, 10000n));
    assert.equal(quote.amountIn, 10_000n);
    assert.equal(quote.amountOut, 9_194n);
    assert.deepEqual(quote.midRate, rational(9231n, 10000n));
    assert.deepEqual(quote.effectiveRate, rational(9194n, 10000n));
    assert.equal(quote.effectiveRateText, '0.919400000000');
    assert.equal(quote.ratesOrigin, 'table');
    assert.equal(quote.amountWanted, undefined);
  });

  it('prices a wanted output, each hop rounding its input up, and confirms it forwards', () => {
    const result = priceRoute(route, rates, { to: 9_000n }, terms());
    assert.ok(result.ok, result.ok ? '' : result.code);
    const { quote } = result;
    assert.equal(quote.rounding, 'ceil_in');
    assert.equal(quote.amountIn, 9_790n);
    assert.equal(quote.amountOut, 9_000n);
    assert.equal(quote.amountWanted, 9_000n);
    assert.deepEqual(
      quote.hops.map((h) => [h.amountIn, h.fee, h.amountOut]),
      [
        [9_790n, 295_605n, 97_506_495n],
        [97_506_495n, 0n, 9_000n],
      ],
    );
    // One cent less pays out less than wanted.
    const less = priceRoute(route, rates, { from: 9_789n }, terms());
    assert.ok(less.ok);
    assert.equal(less.quote.amountOut, 8_999n);
    assert.equal(quote.effectiveRateText, '0.919305413687');
    assert.equal(
      priceRoute(route, rates, { to: 9_000n }, terms({ effectiveRatePlaces: 3 })).ok,
      true,
    );
  });

  it("effective rate places are the caller's", () => {
    const result = priceRoute(route, rates, { from: 10_000n }, terms({ effectiveRatePlaces: 2 }));
    assert.ok(result.ok);
    assert.equal(result.quote.effectiveRateText, '0.91');
  });

  it('checks slippage against the product of mid rates: 0.9194 is 40.08 bps under 0.9231', () => {
    const at = (slippageBpsMax: number) =>
      priceRoute(route, rates, { from: 10_000n }, terms({ slippageBpsMax }));
    assert.equal((at(40) as { code: string }).code, 'slippage_exceeded');
    assert.equal(at(41).ok, true);
  });
});

describe('priceRoute refusals, in precedence order', () => {
  const code = (result: ReturnType<typeof priceRoute>): string | undefined =>
    result.ok ? undefined : `${result.code}${result.field ? ` ${result.field}` : ''}`;
  const stale = terms({ nowMs: nowMs + 3_600_000 });
  const disabled: Route = { ...route, pairs: [usdToUsdc, { ...usdcToEur, enabled: false }] };

  it('amount_invalid before anything else', () => {
    assert.equal(code(priceRoute(route, rates, { from: 0n }, stale)), 'amount_invalid from');
    assert.equal(code(priceRoute(route, rates, { to: -5n }, stale)), 'amount_invalid to');
    assert.equal(
      code(priceRoute(route, rates, { from: amountMax + 1n }, stale)),
      'amount_invalid from',
    );
  });

  it('quote_terms_invalid names the term', () => {
    assert.equal(
      code(priceRoute(route, rates, { from: 1n }, terms({ slippageBpsMax: 10001 }))),
      'quote_terms_invalid slippageBpsMax',
    );
    assert.equal(
      code(priceRoute(route, rates, { from: 1n }, terms({ nowMs: 1.5 }))),
      'quote_terms_invalid nowMs',
    );
    assert.equal(
      code(priceRoute(route, rates, { from: 1n }, terms({ effectiveRatePlaces: 37 }))),
      'quote_terms_invalid effectiveRatePlaces',
    );
  });

  it('rates_stale before an unknown rate or a disabled pair', () => {
    assert.equal(code(priceRoute(disabled, rates, { from: 10_000n }, stale)), 'rates_stale');
    const unmapped = { ...stale, currencyOf: () => undefined };
    assert.equal(code(priceRoute(route, rates, { from: 10_000n }, unmapped)), 'rates_stale');
    const edge = terms({ nowMs: nowMs + 3_600_000 - 60_000 });
    assert.equal(priceRoute(route, rates, { from: 10_000n }, edge).ok, true);
  });

  it('rates_dated_ahead for rates dated ahead of the clock', () => {
    const early = terms({ nowMs: nowMs - 60_000 - 5 * 60_000 - 1 });
    assert.equal(code(priceRoute(disabled, rates, { from: 10_000n }, early)), 'rates_dated_ahead');
  });

  it('rate_unavailable for an asset without a currency or a rate', () => {
    const unmapped = terms({ currencyOf: () => undefined });
    assert.equal(
      code(priceRoute(disabled, rates, { from: 10_000n }, unmapped)),
      'rate_unavailable hops[0]',
    );
    const gbp = terms({
      currencyOf: (node) => (node.asset === 'EUR' ? 'GBP' : 'USD'),
    });
    assert.equal(
      code(priceRoute(disabled, rates, { from: 10_000n }, gbp)),
      'rate_unavailable hops[1]',
    );
  });

  it('pair_disabled', () => {
    assert.equal(
      code(priceRoute(disabled, rates, { from: 10_000n }, terms())),
      'pair_disabled hops[1]',
    );
  });

  it('below_pair_min and above_pair_max, hop by hop', () => {
    assert.equal(code(priceRoute(route, rates, { from: 99n }, terms())), 'below_pair_min hops[0]');
    assert.equal(code(priceRoute(route, rates, { from: 100n }, terms())), 'below_pair_min hops[1]');
    assert.equal(
      code(priceRoute(route, rates, { from: 1_000_001n }, terms())),
      'above_pair_max hops[0]',
    );
    assert.equal(
      code(priceRoute(route, rates, { to: 10n ** 9n }, terms())),
      'above_pair_max hops[0]',
    );
  });

  it('amount_too_small when fees eat the output', () => {
    const tiny: Route = { nodes: [usd, usdc], pairs: [{ ...usdToUsdc, min: 1n }] };
    // 0.10 USD converts to 0.0999 USDC, less 0.10 fixed fee: nothing left.
    assert.equal(code(priceRoute(tiny, rates, { from: 10n }, terms())), 'amount_too_small hops[0]');
    assert.equal(
      code(priceRoute(tiny, rates, { from: 11n }, terms({ slippageBpsMax: 10000 }))),
      undefined,
    );
  });

  it('insufficient_liquidity against each hop output node, intermediate and final', () => {
    const short = (node: string, amount: bigint) =>
      terms({ liquidity: (n) => (nodeKey(n) === node ? amount : 10n ** 18n) });
    assert.equal(
      code(priceRoute(route, rates, { from: 10_000n }, short('evm:USDC', 99_600_199n))),
      'insufficient_liquidity hops[0]',
    );
    assert.equal(
      priceRoute(route, rates, { from: 10_000n }, short('evm:USDC', 99_600_200n)).ok,
      true,
    );
    assert.equal(
      code(priceRoute(route, rates, { from: 10_000n }, short('provider:EUR', 9_193n))),
      'insufficient_liquidity hops[1]',
    );
    assert.equal(
      priceRoute(route, rates, { from: 10_000n }, short('provider:EUR', 9_194n)).ok,
      true,
    );
  });
});

describe('priceRoute on a malformed route', () => {
  it('fails an assertion (a bug, not a rejection)', () => {
    const broken: Route[] = [
      { nodes: [usd, eur], pairs: [usdToUsdc] },
      { nodes: [usd], pairs: [] },
      { nodes: [usd, usdc, usd], pairs: [usdToUsdc, { ...usdToUsdc, from: usdc, to: usd }] },
      { nodes: [usd, usdc], pairs: [{ ...usdToUsdc, feeBps: 10000 }] },
    ];
    for (const route of broken) {
      assert.throws(() => priceRoute(route, rates, { from: 10_000n }, terms()), {
        code: 'ERR_ASSERTION',
      });
    }
  });
});

describe('hop arithmetic', () => {
  it('hopBackward is the least input hopForward takes to a wanted output (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 9999 }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (wanted, num, den, feeBps, feeFixed) => {
          const minor = rational(num, den);
          const least = hopBackward(wanted, minor, feeBps, feeFixed);
          assert.ok(hopForward(least, minor, feeBps, feeFixed).amountOut >= wanted);
          if (least > 0n) {
            assert.ok(hopForward(least - 1n, minor, feeBps, feeFixed).amountOut < wanted);
          }
        },
      ),
    );
  });
});

/** Every route of a world priced with the world's terms, for the properties below. */
function routesOf(world: World): Route[] {
  return enumerateRoutes(world.graph, world.source, world.destination, 4);
}

/** Terms without limits: no liquidity bound, no slippage bound (for minimality). */
function unbounded(world: World): QuoteTerms {
  return termsOf(world, { liquidity: () => amountMax });
}
function unlimited(route: Route): Route {
  return { ...route, pairs: route.pairs.map((p) => ({ ...p, min: 0n, max: amountMax })) };
}

describe('priceRoute properties over random graphs, rates and amounts', () => {
  it('(a) the output never exceeds input × product of mid rates; parts add up per hop', () => {
    fc.assert(
      fc.property(worldArbitrary, amountArbitrary, (world, amount) => {
        for (const candidate of routesOf(world)) {
          const result = priceRoute(candidate, world.rates, { from: amount }, termsOf(world));
          if (!result.ok) continue;
          const { quote } = result;
          const first = candidate.nodes[0]!;
          const last = candidate.nodes[candidate.nodes.length - 1]!;
          assert.ok(
            quote.amountOut * 10n ** BigInt(first.decimals) * quote.midRate.den <=
              quote.amountIn * 10n ** BigInt(last.decimals) * quote.midRate.num,
          );
          for (const hop of quote.hops) {
            const exact = hop.amountIn * 10n ** BigInt(hop.to.decimals) * hop.midRate.num;
            const scale = 10n ** BigInt(hop.from.decimals) * hop.midRate.den;
            assert.ok((hop.amountOut + hop.fee) * scale <= exact, 'gross <= input × mid');
            assert.ok(hop.fee >= 0n && hop.amountOut > 0n);
          }
          for (let i = 1; i < quote.hops.length; i++) {
            assert.equal(quote.hops[i]!.amountIn, quote.hops[i - 1]!.amountOut);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('(b) a {to} quote delivers at least what is wanted, and 1 minor unit less input would not', () => {
    let checked = 0;
    fc.assert(
      fc.property(worldArbitrary, amountArbitrary, (world, wanted) => {
        for (const candidate of routesOf(world)) {
          const result = priceRoute(candidate, world.rates, { to: wanted }, termsOf(world));
          if (!result.ok) continue;
          checked++;
          assert.ok(result.quote.amountOut >= wanted);
          assert.equal(result.quote.hops.at(-1)!.amountOut, result.quote.amountOut);
          if (result.quote.amountIn === 1n) continue;
          const less = priceRoute(
            unlimited(candidate),
            world.rates,
            { from: result.quote.amountIn - 1n },
            unbounded(world),
          );
          assert.ok(
            !less.ok ? less.code === 'amount_too_small' : less.quote.amountOut < wanted,
            'one minor unit less input delivers less than wanted',
          );
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(checked >= 30, `only ${checked} {to} quotes were priced`);
  });

  it("(b) a {to} quote of a {from} quote's output needs no more than that input", () => {
    fc.assert(
      fc.property(worldArbitrary, amountArbitrary, (world, amount) => {
        for (const candidate of routesOf(world).map(unlimited)) {
          const forward = priceRoute(candidate, world.rates, { from: amount }, unbounded(world));
          if (!forward.ok) continue;
          const back = priceRoute(
            candidate,
            world.rates,
            { to: forward.quote.amountOut },
            unbounded(world),
          );
          assert.ok(back.ok);
          assert.ok(back.quote.amountIn <= amount);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('(d) every hop of a quote is within its pair min/max and its output node liquidity', () => {
    fc.assert(
      fc.property(worldArbitrary, amountArbitrary, fc.boolean(), (world, amount, wanted) => {
        const t = termsOf(world);
        for (const candidate of routesOf(world)) {
          const result = priceRoute(
            candidate,
            world.rates,
            wanted ? { to: amount } : { from: amount },
            t,
          );
          if (!result.ok) continue;
          for (const [i, hop] of result.quote.hops.entries()) {
            const pair = candidate.pairs[i]!;
            assert.ok(hop.amountIn >= pair.min && hop.amountIn <= pair.max);
            assert.ok(hop.amountOut <= t.liquidity(hop.to));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
