import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ecbRates, parseEcb } from './ecb.js';
import { ecbDailyFixture, rateTextArbitrary, renderEcb } from './pricing-fixture.js';
import {
  currencyMapping,
  fetchRates,
  jsonRates,
  midRate,
  RatesFetchError,
  ratesAgeRefusal,
  ratesClockSkewMsMax,
  tableRates,
  type RateSource,
} from './rates.js';
import { rational } from './rational.js';
import { utcDateMs, utcTimeMs } from './utc.js';

const dec4 = utcDateMs('2026-12-04')!;
const fresh = { nowMs: dec4 + 86_400_000, ageMaxMs: 2 * 86_400_000 };

function sourceOf(result: ReturnType<typeof tableRates>): RateSource {
  assert.ok(result.ok, result.ok ? '' : result.code);
  return result.source;
}

describe('utc times', () => {
  it('computes unix ms without Date', () => {
    assert.equal(utcDateMs('1970-01-01'), 0);
    assert.equal(utcDateMs('2026-12-04'), 1_796_342_400_000);
    assert.equal(utcDateMs('2024-02-29'), 1_709_164_800_000);
    assert.equal(utcTimeMs('2026-12-04T15:00:00Z'), 1_796_342_400_000 + 15 * 3_600_000);
    for (const bad of ['2026-02-29', '2026-13-01', '2026-00-10', '1969-12-31', '2026-1-01']) {
      assert.equal(utcDateMs(bad), undefined, bad);
    }
    for (const bad of [
      '2026-12-04T24:00:00Z',
      '2026-12-04T15:00:00',
      '2026-12-04T15:00:00+01:00',
    ]) {
      assert.equal(utcTimeMs(bad), undefined, bad);
    }
  });

  it('agrees with the platform calendar (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_900_000 }), (day) => {
        const ms = day * 86_400_000;
        const iso = new Date(ms).toISOString().slice(0, 10);
        assert.equal(utcDateMs(iso), ms);
      }),
    );
  });
});

describe('table rates', () => {
  const source = sourceOf(
    tableRates({ 'USD/EUR': '0.9231', 'EUR/GBP': '0.85623', 'USDC/USD': '1' }, dec4),
  );

  it('answers direct, inverted and EUR-crossed mid rates exactly', () => {
    assert.deepEqual(midRate(source, 'USD', 'EUR', fresh), {
      ok: true,
      rate: rational(9231n, 10000n),
    });
    assert.deepEqual(midRate(source, 'EUR', 'USD', fresh), {
      ok: true,
      rate: rational(10000n, 9231n),
    });
    assert.deepEqual(midRate(source, 'USD', 'GBP', fresh), {
      ok: true,
      rate: rational(9231n * 85623n, 10000n * 100000n),
    });
    assert.deepEqual(midRate(source, 'GBP', 'GBP', fresh), { ok: true, rate: rational(1n, 1n) });
    const usdc = midRate(source, 'USDC', 'USD', fresh);
    assert.deepEqual(usdc, { ok: true, rate: rational(1n, 1n) });
  });

  it('refuses a pair it cannot make, and stale rates whatever the pair', () => {
    assert.equal(
      (midRate(source, 'USDC', 'GBP', fresh) as { code: string }).code,
      'rate_unavailable',
    );
    assert.equal(
      (midRate(source, 'JPY', 'EUR', fresh) as { code: string }).code,
      'rate_unavailable',
    );
    const late = { nowMs: dec4 + 2 * 86_400_000 + 1, ageMaxMs: 2 * 86_400_000 };
    assert.equal((midRate(source, 'USD', 'EUR', late) as { code: string }).code, 'rates_stale');
    const edge = { nowMs: dec4 + 2 * 86_400_000, ageMaxMs: 2 * 86_400_000 };
    assert.equal(midRate(source, 'USD', 'EUR', edge).ok, true);
  });

  it('refuses a source dated ahead of the clock by more than the skew', () => {
    const ahead = (ms: number) => ({ nowMs: dec4 - ms, ageMaxMs: 86_400_000 });
    assert.equal(midRate(source, 'USD', 'EUR', ahead(ratesClockSkewMsMax)).ok, true);
    assert.equal(
      (midRate(source, 'USD', 'EUR', ahead(ratesClockSkewMsMax + 1)) as { code: string }).code,
      'rates_dated_ahead',
    );
    assert.equal(ratesAgeRefusal(source, dec4 + 86_400_000, 86_400_000), undefined);
    assert.equal(ratesAgeRefusal(source, dec4 + 86_400_001, 86_400_000), 'rates_stale');
  });

  const refusals: [unknown, string, string?][] = [
    [[], 'table_invalid'],
    [null, 'table_invalid'],
    [{}, 'table_invalid'],
    [{ USDEUR: '1' }, 'table_pair_invalid', 'USDEUR'],
    [{ 'usd/EUR': '1' }, 'table_pair_invalid', 'usd/EUR'],
    [{ 'USD/USD': '1' }, 'table_pair_invalid', 'USD/USD'],
    [{ 'USD/EUR/GBP': '1' }, 'table_pair_invalid', 'USD/EUR/GBP'],
    [{ 'USD/EUR': '0.9', 'EUR/USD': '1.1' }, 'table_pair_duplicate', 'EUR/USD'],
    [{ 'USD/EUR': -0.9 }, 'rate_not_text', 'USD/EUR'],
    [{ 'USD/EUR': '-0.9' }, 'rate_negative', 'USD/EUR'],
    [{ 'USD/EUR': '9e-1' }, 'rate_exponent', 'USD/EUR'],
    [{ 'USD/EUR': '0' }, 'rate_zero', 'USD/EUR'],
  ];
  for (const [table, code, field] of refusals) {
    it(`refuses ${JSON.stringify(table)} with ${code}`, () => {
      const result = tableRates(table, dec4);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code);
      assert.equal(!result.ok && result.field, field);
    });
  }

  it('refuses a table of more than 512 pairs and a bad as-of time', () => {
    const big = Object.fromEntries(
      Array.from({ length: 513 }, (_, i) => [`C${String(i).padStart(3, '0')}/EUR`, '1']),
    );
    assert.equal((tableRates(big, dec4) as { code: string }).code, 'table_invalid');
    assert.equal((tableRates({ 'USD/EUR': '1' }, -1) as { code: string }).code, 'as_of_invalid');
    assert.equal((tableRates({ 'USD/EUR': '1' }, 1.5) as { code: string }).code, 'as_of_invalid');
  });

  it('maps assets to currencies', () => {
    const currencyOf = currencyMapping([
      { ecosystem: 'evm', asset: 'USDC', currency: 'USD' },
      { ecosystem: 'chain-a', asset: 'USD', currency: 'USD' },
    ]);
    assert.equal(currencyOf({ ecosystem: 'evm', asset: 'USDC' }), 'USD');
    assert.equal(currencyOf({ ecosystem: 'evm', asset: 'USD' }), undefined);
    assert.throws(() => currencyMapping([{ ecosystem: 'evm', asset: 'X', currency: 'usd' }]));
  });
});

describe('ECB daily rates', () => {
  it('reads the published file: date, rates per 1 EUR, as of 00:00 UTC that day', () => {
    const parsed = parseEcb(ecbDailyFixture);
    assert.ok(parsed.ok, parsed.ok ? '' : `${parsed.code}: ${parsed.message}`);
    assert.equal(parsed.document.date, '2026-12-04');
    assert.equal(parsed.document.rates.length, 12);
    assert.deepEqual(parsed.document.rates[0], {
      currency: 'USD',
      rate: rational(5421n, 5000n),
      text: '1.0842',
    });
    const source = sourceOf(ecbRates(ecbDailyFixture));
    assert.equal(source.asOfMs, dec4);
    assert.equal(source.origin, 'ecb');
    assert.deepEqual(midRate(source, 'USD', 'JPY', fresh), {
      ok: true,
      rate: rational(16185n * 10000n, 100n * 10842n),
    });
    assert.deepEqual(midRate(source, 'GBP', 'EUR', fresh), {
      ok: true,
      rate: rational(100000n, 85623n),
    });
  });

  it('accepts double quotes, no declaration and a self-closed element layout variant', () => {
    const variant = ecbDailyFixture
      .replace('<?xml version="1.0" encoding="UTF-8"?>\n', '')
      .replaceAll("'", '"');
    assert.equal(parseEcb(variant).ok, true);
  });

  const refused: [string, string, string][] = [
    [
      'a DOCTYPE',
      ecbDailyFixture.replace('<gesmes:Envelope', '<!DOCTYPE x [<!ENTITY a "b">]><gesmes:Envelope'),
      'ecb_xml_malformed',
    ],
    ['a comment', ecbDailyFixture.replace('<Cube>', '<!-- c --><Cube>'), 'ecb_xml_malformed'],
    [
      'an entity',
      ecbDailyFixture.replace('European Central Bank', 'European &amp; Central Bank'),
      'ecb_xml_malformed',
    ],
    [
      'a processing instruction',
      ecbDailyFixture.replace('<Cube>', '<?pi x?><Cube>'),
      'ecb_xml_malformed',
    ],
    ['trailing content', `${ecbDailyFixture}<x/>`, 'ecb_xml_malformed'],
    [
      'an unclosed element',
      ecbDailyFixture.replace('\t</Cube>\n</gesmes', '</gesmes'),
      'ecb_xml_malformed',
    ],
    [
      'a mismatched close',
      ecbDailyFixture.replace('</gesmes:Sender>', '</gesmes:sender>'),
      'ecb_xml_malformed',
    ],
    [
      'a duplicate attribute',
      ecbDailyFixture.replace("currency='USD'", "currency='USD' currency='USD'"),
      'ecb_xml_malformed',
    ],
    [
      'an unquoted attribute',
      ecbDailyFixture.replace("rate='1.0842'", 'rate=1.0842'),
      'ecb_xml_malformed',
    ],
    [
      'another namespace',
      ecbDailyFixture.replace('2002-08-01/eurofxref', '2002-08-01/other'),
      'ecb_structure_invalid',
    ],
    [
      'another subject',
      ecbDailyFixture.replace('Reference rates', 'Rates'),
      'ecb_structure_invalid',
    ],
    [
      'an extra attribute',
      ecbDailyFixture.replace("rate='1.0842'", "rate='1.0842' x='1'"),
      'ecb_structure_invalid',
    ],
    ['a missing rate', ecbDailyFixture.replace(" rate='1.0842'", ''), 'ecb_structure_invalid'],
    [
      'text in a Cube',
      ecbDailyFixture.replace("<Cube time='2026-12-04'>", "<Cube time='2026-12-04'>x"),
      'ecb_structure_invalid',
    ],
    [
      'two dated cubes',
      ecbDailyFixture.replace(
        '\t</Cube>\n</gesmes',
        "\t\t<Cube time='2026-12-03'><Cube currency='USD' rate='1.08'/></Cube>\n\t</Cube>\n</gesmes",
      ),
      'ecb_structure_invalid',
    ],
    ['an empty dated cube', renderEcb('2026-12-04', []), 'ecb_structure_invalid'],
    ['an impossible date', ecbDailyFixture.replace('2026-12-04', '2026-02-30'), 'ecb_date_invalid'],
    ['a lowercase currency', ecbDailyFixture.replace("'USD'", "'usd'"), 'ecb_currency_invalid'],
    ['EUR itself', ecbDailyFixture.replace("'USD'", "'EUR'"), 'ecb_currency_invalid'],
    ['a duplicate currency', ecbDailyFixture.replace("'JPY'", "'USD'"), 'ecb_currency_duplicate'],
    ['a negative rate', ecbDailyFixture.replace("'1.0842'", "'-1.0842'"), 'rate_negative'],
    ['an exponent', ecbDailyFixture.replace("'1.0842'", "'1.0842e0'"), 'rate_exponent'],
    ['a zero rate', ecbDailyFixture.replace("'1.0842'", "'0.0000'"), 'rate_zero'],
    ['an empty rate', ecbDailyFixture.replace("'1.0842'", "''"), 'rate_not_decimal'],
    ['an oversized document', ecbDailyFixture + ' '.repeat(70_000), 'ecb_too_large'],
  ];
  for (const [what, text, code] of refused) {
    it(`refuses ${what} with ${code}`, () => {
      const result = parseEcb(text);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code, !result.ok ? result.message : '');
    });
  }

  const currency = fc.stringMatching(/^[A-Z][A-Z0-9]{2,4}$/).filter((code) => code !== 'EUR');
  const documentArbitrary = fc.record({
    day: fc.integer({ min: 0, max: 2_900_000 }),
    rates: fc.uniqueArray(fc.record({ currency, text: rateTextArbitrary }), {
      minLength: 1,
      maxLength: 40,
      selector: (entry) => entry.currency,
    }),
  });
  const dateOf = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);

  it('round-trips a generated document (property)', () => {
    fc.assert(
      fc.property(documentArbitrary, ({ day, rates }) => {
        const parsed = parseEcb(renderEcb(dateOf(day), rates));
        assert.ok(parsed.ok, parsed.ok ? '' : `${parsed.code}: ${parsed.message}`);
        assert.equal(parsed.document.date, dateOf(day));
        assert.equal(parsed.document.dateMs, day * 86_400_000);
        assert.deepEqual(
          parsed.document.rates.map((r) => ({ currency: r.currency, text: r.text })),
          rates.map((r) => ({ currency: r.currency, text: r.text })),
        );
      }),
    );
  });

  it('refuses any truncation of a generated document (property)', () => {
    fc.assert(
      fc.property(documentArbitrary, fc.nat(), ({ day, rates }, cut) => {
        const text = renderEcb(dateOf(day), rates).trimEnd();
        assert.equal(parseEcb(text.slice(0, cut % text.length)).ok, false);
      }),
    );
  });

  it('refuses a generated document with one "<", ">", quote or "/" removed (property)', () => {
    fc.assert(
      fc.property(documentArbitrary, fc.nat(), ({ day, rates }, pick) => {
        const text = renderEcb(dateOf(day), rates);
        const marks = [...text.matchAll(/[<>'"/]/g)].map((m) => m.index);
        const at = marks[pick % marks.length]!;
        // The namespace URLs' slashes are inside attribute values: removing one changes the URL,
        // which the reader refuses as another namespace.
        const mutated = text.slice(0, at) + text.slice(at + 1);
        assert.equal(parseEcb(mutated).ok, false, `removed ${text[at]} at ${at}`);
      }),
    );
  });

  it('refuses a generated document with one rate replaced by a bad one (property)', () => {
    const badRate = fc.oneof(
      rateTextArbitrary.map((t) => `-${t}`),
      rateTextArbitrary.map((t) => `${t}e2`),
      fc.constantFrom('', '0', '0.0', '.5', '1.', ' 1', 'NaN', '1,5', '1_000'),
    );
    fc.assert(
      fc.property(documentArbitrary, fc.nat(), badRate, ({ day, rates }, pick, bad) => {
        const mutated = rates.map((r, i) => (i === pick % rates.length ? { ...r, text: bad } : r));
        assert.equal(parseEcb(renderEcb(dateOf(day), mutated)).ok, false);
      }),
    );
  });
});

describe('rates URL', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, (res: import('node:http').ServerResponse) => void>();

  before(async () => {
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) route(res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    routes.set('/ecb', (res) =>
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(ecbDailyFixture),
    );
    routes.set('/json', (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ asOf: '2026-12-04T15:00:00Z', rates: { 'USD/EUR': '0.9231' } })),
    );
    routes.set('/html', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p/>'));
    routes.set('/bad-xml', (res) =>
      res.writeHead(200, { 'content-type': 'application/xml' }).end('<rates/>'),
    );
    routes.set('/big', (res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('x'.repeat(200_000));
    });
    routes.set('/chunked-big', (res) => {
      res.writeHead(200, { 'content-type': 'application/xml', 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 100; i++) res.write('x'.repeat(2048));
      res.end();
    });
    routes.set('/status', (res) => res.writeHead(503).end());
    routes.set('/redirect', (res) => res.writeHead(302, { location: '/ecb' }).end());
    routes.set('/slow', (res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write('<?xml version="1.0"?>');
      // Never ends: the fetch must give up by its timeout.
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads ECB XML by content type', async () => {
    const source = await fetchRates(`${base}/ecb`, { timeoutMs: 2000 });
    assert.equal(source.asOfMs, dec4);
    assert.equal(source.origin, `url ${base}/ecb`);
    assert.equal(source.pairs.size, 12);
  });

  it('reads the JSON form with its as-of time', async () => {
    const source = await fetchRates(`${base}/json`, { timeoutMs: 2000 });
    assert.equal(source.asOfMs, dec4 + 15 * 3_600_000);
    assert.deepEqual(source.pairs.get('USD/EUR'), rational(9231n, 10000n));
  });

  const failures: [string, string, number?][] = [
    ['/html', 'rates_content_invalid'],
    ['/bad-xml', 'rates_content_invalid'],
    ['/big', 'rates_body_too_large'],
    ['/chunked-big', 'rates_body_too_large'],
    ['/status', 'rates_fetch_status'],
    ['/redirect', 'rates_fetch_status'],
    ['/slow', 'rates_fetch_timeout', 200],
  ];
  for (const [path, code, timeoutMs] of failures) {
    it(`throws ${code} for ${path}`, async () => {
      await assert.rejects(
        fetchRates(`${base}${path}`, { timeoutMs: timeoutMs ?? 2000, bodyBytesMax: 64 * 1024 }),
        (error: unknown) => error instanceof RatesFetchError && error.code === code,
      );
    });
  }

  it('throws rates_fetch_failed when nothing listens', async () => {
    await assert.rejects(
      fetchRates('http://127.0.0.1:1/x', { timeoutMs: 2000 }),
      (error: unknown) => error instanceof RatesFetchError && error.code === 'rates_fetch_failed',
    );
  });

  it('refuses JSON that is not exactly {asOf, rates}', () => {
    assert.equal(
      (jsonRates('{"rates":{"USD/EUR":"1"}}') as { code: string }).code,
      'table_invalid',
    );
    assert.equal(
      (jsonRates('{"asOf":"2026-12-04","rates":{"USD/EUR":"1"}}') as { code: string }).code,
      'as_of_invalid',
    );
    assert.equal((jsonRates('nope') as { code: string }).code, 'table_invalid');
    assert.equal(
      (
        jsonRates('{"asOf":"2026-12-04T00:00:00Z","rates":{"USD/EUR":"1"},"x":1}') as {
          code: string;
        }
      ).code,
      'table_invalid',
    );
  });
});
