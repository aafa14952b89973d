/* Test helpers for the pricing tests: a hand-written ECB document and fast-check arbitraries. */
import fc from 'fast-check';
import { amountMax } from '../../../ledger/amount.js';
import type { AssetInfo, Graph, Pair } from './graph.js';
import { nodeKey } from './graph.js';
import {
  currencyMapping,
  tableRates,
  type AssetNode,
  type CurrencyMapping,
  type RateSource,
} from './rates.js';
import type { QuoteTerms } from './quote.js';

/** The ECB's daily file as it is published (single-quoted attributes, tabs), by hand. */
export const ecbDailyFixture = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
\t\t<Cube time='2026-12-04'>
\t\t\t<Cube currency='USD' rate='1.0842'/>
\t\t\t<Cube currency='JPY' rate='161.85'/>
\t\t\t<Cube currency='BGN' rate='1.9558'/>
\t\t\t<Cube currency='CZK' rate='25.198'/>
\t\t\t<Cube currency='DKK' rate='7.4593'/>
\t\t\t<Cube currency='GBP' rate='0.85623'/>
\t\t\t<Cube currency='HUF' rate='388.45'/>
\t\t\t<Cube currency='PLN' rate='4.2680'/>
\t\t\t<Cube currency='SEK' rate='11.2350'/>
\t\t\t<Cube currency='CHF' rate='0.9412'/>
\t\t\t<Cube currency='NOK' rate='11.6715'/>
\t\t\t<Cube currency='IDR' rate='17352.44'/>
\t\t</Cube>
\t</Cube>
</gesmes:Envelope>
`;

/** Renders an ECB daily document from a date and rates, as the ECB lays it out. */
export function renderEcb(date: string, rates: readonly { currency: string; text: string }[]) {
  const lines = rates.map((r) => `\t\t\t<Cube currency='${r.currency}' rate='${r.text}'/>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">',
    '\t<gesmes:subject>Reference rates</gesmes:subject>',
    '\t<gesmes:Sender>',
    '\t\t<gesmes:name>European Central Bank</gesmes:name>',
    '\t</gesmes:Sender>',
    '\t<Cube>',
    `\t\t<Cube time='${date}'>`,
    ...lines,
    '\t\t</Cube>',
    '\t</Cube>',
    '</gesmes:Envelope>',
    '',
  ].join('\n');
}

/** A positive decimal rate text with at most 12 digits each side, no leading zeros. */
export const rateTextArbitrary: fc.Arbitrary<string> = fc
  .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n - 1n }), fc.integer({ min: 0, max: 12 }))
  .map(([digits, places]) => {
    const text = digits.toString().padStart(places + 1, '0');
    return places === 0 ? text : `${text.slice(0, text.length - places)}.${text.slice(-places)}`;
  })
  .filter((text) => text.split('.')[0]!.length <= 12);

export const currencies = ['EUR', 'USD', 'GBP', 'JPY'] as const;

/** A rate of moderate size: 0.0001 to 9999.9999 (keeps products in sensible ranges). */
const moderateRate = fc
  .integer({ min: 1, max: 99_999_999 })
  .map((n) => {
    const text = n.toString().padStart(5, '0');
    return `${text.slice(0, -4)}.${text.slice(-4)}`;
  })
  .map((text) => text.replace(/^0+(?=[0-9])/, ''));

export interface World {
  graph: Graph;
  rates: RateSource;
  currencyOf: CurrencyMapping;
  liquidity: Map<string, bigint>;
  source: AssetNode;
  destination: AssetNode;
}

export const nowMs = 1_796_400_000_000;

export function termsOf(world: World, fields: Partial<QuoteTerms> = {}): QuoteTerms {
  return {
    currencyOf: world.currencyOf,
    nowMs,
    ratesAgeMaxMs: 86_400_000,
    slippageBpsMax: 10000,
    liquidity: (node) => world.liquidity.get(nodeKey(node)) ?? 0n,
    ...fields,
  };
}

/** Random small graphs (2 to 6 nodes), rates, liquidity, and a source and destination. */
export const worldArbitrary: fc.Arbitrary<World> = fc
  .integer({ min: 2, max: 6 })
  .chain((size) =>
    fc.record({
      size: fc.constant(size),
      decimals: fc.array(fc.constantFrom(0, 2, 6, 8, 18), { minLength: size, maxLength: size }),
      currencyIndex: fc.array(fc.integer({ min: 0, max: 3 }), {
        minLength: size,
        maxLength: size,
      }),
      rates: fc.array(moderateRate, { minLength: 3, maxLength: 3 }),
      edges: fc.array(
        fc.record({
          present: fc.boolean(),
          spreadBps: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })),
          feeBps: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })),
          feeFixed: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10_000n })),
          min: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 6n })),
          max: fc.oneof(fc.constant(amountMax), fc.bigInt({ min: 10n ** 6n, max: 10n ** 20n })),
          enabled: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
        }),
        { minLength: size * size, maxLength: size * size },
      ),
      liquidity: fc.array(
        fc.oneof(fc.constant(amountMax), fc.bigInt({ min: 0n, max: 10n ** 24n })),
        { minLength: size, maxLength: size },
      ),
      ends: fc.tuple(fc.nat(size - 1), fc.nat(size - 2)),
    }),
  )
  .map((drawn) => {
    const nodes: AssetInfo[] = drawn.decimals.map((decimals, index) => ({
      ecosystem: index % 2 === 0 ? 'chain-a' : 'evm',
      asset: `A${index}`,
      decimals,
    }));
    const pairs: Pair[] = [];
    for (let from = 0; from < drawn.size; from++) {
      for (let to = 0; to < drawn.size; to++) {
        const edge = drawn.edges[from * drawn.size + to]!;
        if (from === to || !edge.present) continue;
        pairs.push({
          from: nodes[from]!,
          to: nodes[to]!,
          spreadBps: edge.spreadBps,
          feeBps: edge.feeBps,
          feeFixed: edge.feeFixed,
          min: edge.min,
          max: edge.max,
          enabled: edge.enabled,
        });
      }
    }
    const table = Object.fromEntries(
      drawn.rates.map((rate, index) => [`EUR/${currencies[index + 1]!}`, rate]),
    );
    const parsed = tableRates(table, nowMs - 1000);
    if (!parsed.ok) throw new Error(`fixture rates refused: ${parsed.code}`);
    const currencyOf = currencyMapping(
      nodes.map((node, index) => ({
        ecosystem: node.ecosystem,
        asset: node.asset,
        currency: currencies[drawn.currencyIndex[index]!]!,
      })),
    );
    const [first, second] = drawn.ends;
    const destinationIndex = second >= first ? second + 1 : second;
    return {
      graph: { nodes, pairs },
      rates: parsed.source,
      currencyOf,
      liquidity: new Map(nodes.map((node, index) => [nodeKey(node), drawn.liquidity[index]!])),
      source: nodes[first]!,
      destination: nodes[destinationIndex]!,
    };
  });

/** Amounts from 1 minor unit to 10^15 (tilted toward small and round values by fast-check). */
export const amountArbitrary: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 1n, max: 1000n }),
  fc.bigInt({ min: 1n, max: 10n ** 15n }),
);
