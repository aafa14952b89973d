/*
 * HTTP Range (RFC 9110 §14) for one range of bytes: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * A header that is not a bytes range at all is ignored (the whole content is served, as the RFC
 * allows); a list of ranges or a range past the end is unsatisfiable (416): the gateway streams
 * one range per request, which is what media players ask for.
 */

export type RangeAnswer =
  { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'whole' };
  const value = header.trim();
  if (!/^bytes=/i.test(value)) return { kind: 'whole' };
  const spec = value.slice(6).trim();
  if (spec.includes(',')) return { kind: 'unsatisfiable' };
  const match = /^(\d{0,16})-(\d{0,16})$/.exec(spec);
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || Number(match[2] || start) < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
