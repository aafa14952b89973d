/*
 * The ECB's euro foreign exchange reference rates, the daily file (eurofxref-daily.xml):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 *       xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
 *     <gesmes:subject>Reference rates</gesmes:subject>
 *     <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
 *     <Cube><Cube time='2026-12-04'>
 *       <Cube currency='USD' rate='1.0842'/> ...
 *     </Cube></Cube>
 *   </gesmes:Envelope>
 *
 * Rates are units of the currency per 1 EUR. This is a small strict reader of exactly that shape,
 * not an XML parser: no DOCTYPE, comments, CDATA, processing instructions (bar the leading XML
 * declaration), entities or character references; attributes in single or double quotes; only
 * whitespace between elements. Anything else is refused with a code, never guessed at. A file
 * with several dated cubes (the 90-day and historical files) is refused: it is a daily reader.
 */
import { parseRate, type Rational } from './rational.js';
import { isCurrency } from './currency.js';
import type { RateSourceResult } from './rates.js';
import { utcDateMs } from './utc.js';

/** The daily file is about 1.5 KiB; anything far larger is not it. */
export const ecbTextLengthMax = 64 * 1024;
/** The ECB publishes about 30 currencies. */
export const ecbCurrenciesMax = 64;
const elementsMax = ecbCurrenciesMax + 8;
const depthMax = 4;

export const gesmesNamespace = 'http://www.gesmes.org/xml/2002-08-01';
export const eurofxrefNamespace = 'http://www.ecb.int/vocabulary/2002-08-01/eurofxref';

export const ecbRefusals = {
  ecb_too_large: `An ECB rates document is at most ${ecbTextLengthMax} characters.`,
  ecb_xml_malformed: 'The document is not the plain XML an ECB rates document is written in.',
  ecb_structure_invalid:
    'The document is not an ECB daily rates document (gesmes:Envelope, subject, Sender, one dated Cube of currency Cubes).',
  ecb_date_invalid: 'The Cube time is not a calendar date YYYY-MM-DD.',
  ecb_currency_invalid: 'A Cube currency is not a currency code other than EUR.',
  ecb_currency_duplicate: 'A currency appears twice in the document.',
} as const;

export type EcbRefusal = keyof typeof ecbRefusals;

export interface EcbDocument {
  /** The reference date, "YYYY-MM-DD". */
  date: string;
  /** Unix ms of the date at 00:00 UTC. */
  dateMs: number;
  /** Currency per 1 EUR, in document order; `text` is the rate as written. */
  rates: { currency: string; rate: Rational; text: string }[];
}

export type EcbResult =
  | { ok: true; document: EcbDocument }
  | { ok: false; code: string; message: string; field?: string };

interface Element {
  name: string;
  attributes: Map<string, string>;
  children: Element[];
  text: string;
}

class Malformed extends Error {}

const namePattern = /[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?/y;
const whitespacePattern = /[ \t\r\n]*/y;
const declarationPattern = /<\?xml version=(["'])1\.0\1(?: encoding=(["'])(?:UTF-8|utf-8)\2)?\?>/y;

/** Tokenizes and nests the elements; throws `Malformed` on anything outside the subset. */
function parseTree(text: string): Element {
  let at = 0;
  const skipWhitespace = (): void => {
    whitespacePattern.lastIndex = at;
    whitespacePattern.exec(text);
    at = whitespacePattern.lastIndex;
  };
  const readName = (): string => {
    namePattern.lastIndex = at;
    const match = namePattern.exec(text);
    if (!match) throw new Malformed(`a name is expected at ${at}`);
    at = namePattern.lastIndex;
    return match[0];
  };
  declarationPattern.lastIndex = 0;
  if (declarationPattern.exec(text)) at = declarationPattern.lastIndex;
  skipWhitespace();
  let root: Element | undefined;
  const stack: Element[] = [];
  let elements = 0;
  while (at < text.length) {
    if (text[at] !== '<') {
      const end = text.indexOf('<', at);
      const chunk = text.slice(at, end === -1 ? text.length : end);
      if (/[&>]/.test(chunk)) throw new Malformed(`"&" or ">" in text at ${at}`);
      const parent = stack[stack.length - 1];
      if (!parent) throw new Malformed(`text outside the root element at ${at}`);
      parent.text += chunk;
      at += chunk.length;
      continue;
    }
    at++;
    if (text[at] === '/') {
      at++;
      const name = readName();
      skipWhitespace();
      if (text[at] !== '>') throw new Malformed(`">" is expected at ${at}`);
      at++;
      const open = stack.pop();
      if (!open || open.name !== name) throw new Malformed(`</${name}> closes nothing open`);
      if (stack.length === 0) {
        skipWhitespace();
        if (at !== text.length) throw new Malformed(`content after the root element at ${at}`);
      }
      continue;
    }
    const name = readName();
    if (root && stack.length === 0) throw new Malformed('a second root element');
    const element: Element = { name, attributes: new Map(), children: [], text: '' };
    if (++elements > elementsMax) throw new Malformed('too many elements');
    for (;;) {
      const before = at;
      skipWhitespace();
      if (text[at] === '>' || text.startsWith('/>', at)) break;
      if (at === before) throw new Malformed(`whitespace is expected before an attribute at ${at}`);
      const attribute = readName();
      if (text[at] !== '=') throw new Malformed(`"=" is expected at ${at}`);
      const quote = text[at + 1];
      if (quote !== '"' && quote !== "'") throw new Malformed(`a quote is expected at ${at + 1}`);
      const end = text.indexOf(quote, at + 2);
      if (end === -1) throw new Malformed(`an unterminated attribute at ${at}`);
      const value = text.slice(at + 2, end);
      if (/[<&]/.test(value)) throw new Malformed(`"<" or "&" in an attribute at ${at}`);
      if (element.attributes.has(attribute)) throw new Malformed(`${attribute} given twice`);
      element.attributes.set(attribute, value);
      at = end + 1;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    if (text[at] === '>') {
      at++;
      stack.push(element);
      if (stack.length > depthMax) throw new Malformed('elements nest too deep');
    } else {
      at += 2;
      if (stack.length === 0) {
        skipWhitespace();
        if (at !== text.length) throw new Malformed(`content after the root element at ${at}`);
      }
    }
  }
  if (!root || stack.length > 0) throw new Malformed('the document ends inside an element');
  return root;
}

class Invalid extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function structure(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Invalid('ecb_structure_invalid', `${ecbRefusals.ecb_structure_invalid} ${what}`);
  }
}

/** Checks an element's name, its exact attribute names, and (unless it may) that it has no text. */
function expectElement(
  element: Element | undefined,
  name: string,
  attributes: string[],
  textAllowed = false,
): Element {
  structure(element !== undefined, `<${name}> is missing.`);
  structure(element.name === name, `<${name}> is expected, not <${element.name}>.`);
  const names = [...element.attributes.keys()].sort();
  structure(
    names.join(' ') === [...attributes].sort().join(' '),
    `<${name}> has the attributes ${attributes.join(', ') || 'none'} only.`,
  );
  structure(textAllowed || element.text.trim() === '', `<${name}> holds no text.`);
  return element;
}

function onlyChild(element: Element): Element | undefined {
  structure(element.children.length === 1, `<${element.name}> holds exactly one element.`);
  return element.children[0];
}

/** Reads an ECB daily rates document; see the file comment for what is accepted. */
export function parseEcb(text: string): EcbResult {
  if (text.length > ecbTextLengthMax) {
    return { ok: false, code: 'ecb_too_large', message: ecbRefusals.ecb_too_large };
  }
  let root: Element;
  try {
    root = parseTree(text);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return {
      ok: false,
      code: 'ecb_xml_malformed',
      message: `${ecbRefusals.ecb_xml_malformed} ${error.message}`,
    };
  }
  try {
    return { ok: true, document: readDocument(root) };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return error.field === undefined
      ? { ok: false, code: error.code, message: error.message }
      : { ok: false, code: error.code, message: error.message, field: error.field };
  }
}

function readDocument(root: Element): EcbDocument {
  const envelope = expectElement(root, 'gesmes:Envelope', ['xmlns:gesmes', 'xmlns']);
  structure(
    envelope.attributes.get('xmlns:gesmes') === gesmesNamespace &&
      envelope.attributes.get('xmlns') === eurofxrefNamespace,
    'The namespaces are the gesmes and eurofxref ones.',
  );
  structure(envelope.children.length === 3, '<gesmes:Envelope> holds subject, Sender and Cube.');
  const [subjectElement, senderElement, outerCube] = envelope.children;
  const subject = expectElement(subjectElement, 'gesmes:subject', [], true);
  structure(subject.children.length === 0, '<gesmes:subject> holds text only.');
  structure(subject.text === 'Reference rates', 'The subject is "Reference rates".');
  const sender = expectElement(senderElement, 'gesmes:Sender', []);
  const senderName = expectElement(onlyChild(sender), 'gesmes:name', [], true);
  structure(senderName.children.length === 0, '<gesmes:name> holds text only.');
  structure(
    /^[A-Za-z][A-Za-z .-]{0,99}$/.test(senderName.text),
    "<gesmes:name> is the sender's name.",
  );
  const outer = expectElement(outerCube, 'Cube', []);
  const dated = expectElement(onlyChild(outer), 'Cube', ['time']);
  const date = dated.attributes.get('time')!;
  const dateMs = utcDateMs(date);
  if (dateMs === undefined) throw new Invalid('ecb_date_invalid', ecbRefusals.ecb_date_invalid);
  structure(dated.children.length >= 1, 'The dated Cube holds at least one rate.');
  structure(dated.children.length <= ecbCurrenciesMax, `At most ${ecbCurrenciesMax} rates.`);
  const rates: EcbDocument['rates'] = [];
  const seen = new Set<string>();
  for (const child of dated.children) {
    const cube = expectElement(child, 'Cube', ['currency', 'rate']);
    structure(cube.children.length === 0, 'A rate Cube holds nothing.');
    const currency = cube.attributes.get('currency')!;
    if (!isCurrency(currency) || currency === 'EUR') {
      throw new Invalid('ecb_currency_invalid', ecbRefusals.ecb_currency_invalid, currency);
    }
    if (seen.has(currency)) {
      throw new Invalid('ecb_currency_duplicate', ecbRefusals.ecb_currency_duplicate, currency);
    }
    seen.add(currency);
    const text = cube.attributes.get('rate')!;
    const parsed = parseRate(text);
    if (!parsed.ok) throw new Invalid(parsed.code, parsed.message, currency);
    rates.push({ currency, rate: parsed.rate, text });
  }
  return { date, dateMs, rates };
}

/**
 * An ECB daily document as a rate source: pairs `EUR/XXX`, as of the reference date at 00:00 UTC.
 * The ECB publishes at about 16:00 CET on that date, so 00:00 UTC makes the rates look older than
 * they are, never fresher: an age limit errs toward refusing (`rates_stale`). Mind weekends and
 * TARGET holidays: Monday's quotes see Friday's rates, so an age limit under ~4 days refuses them.
 */
export function ecbRates(text: string, origin = 'ecb'): RateSourceResult {
  const parsed = parseEcb(text);
  if (!parsed.ok) return parsed;
  const pairs = new Map<string, Rational>();
  for (const { currency, rate } of parsed.document.rates) pairs.set(`EUR/${currency}`, rate);
  return { ok: true, source: Object.freeze({ origin, asOfMs: parsed.document.dateMs, pairs }) };
}
