/**
 * A small seeded PRNG (mulberry32) for tests that must replay from a printed seed. Not for keys
 * that guard anything: test keys derived from it are public by construction.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed))
      throw new TypeError(`Prng: seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`Prng.int: bad range [${min}, ${max}]`);
    }
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick: no items');
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 1) out[i] = this.next() & 0xff;
    return out;
  }

  /**
   * An independent stream for one actor (a worker, the killer), so that how the actors interleave
   * in time does not change the choices each one makes.
   */
  fork(label: number): Prng {
    return new Prng(
      (Math.imul(this.state ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(label + 1, 0xc2b2ae35)) >>> 0,
    );
  }
}

/** Reads a seed written as decimal or 0x-hex; a fresh random one when `text` is empty. */
export function parseSeed(text: string | undefined, fresh: () => number): number {
  if (text === undefined || text.trim() === '') return fresh() >>> 0;
  const trimmed = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(trimmed)
    ? Number.parseInt(trimmed.slice(2), 16)
    : Number(trimmed);
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`seed must be an integer from 0 to 2^32 - 1, got ${JSON.stringify(text)}`);
  }
  return value;
}
