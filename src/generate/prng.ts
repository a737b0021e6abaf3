// A seeded PRNG for the generator: mulberry32, so the same seed gives the
// same trace byte for byte on every machine (no Math.random, no Date).

export class Rng {
  private state: number;

  constructor(seed: number) {
    // Fold a seed up to 2^53 into 32 bits, then stir once so that nearby
    // seeds (1, 2, 3...) start far apart.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
    this.state = (lo ^ Math.imul(hi, 0x9e3779b1) ^ 0x6d2b79f5) >>> 0;
    this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}
