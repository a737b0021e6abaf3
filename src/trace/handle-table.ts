// Live pin handles -> two numbers each: an open-addressing table over typed
// arrays. The validator keeps (pid, len) per live pin, the replay (pid,
// slot); both look a handle up for every DMA, so this is the hottest state of
// each. A Map cost a hash probe plus, for two numbers, an object per pin.
// Linear probing, deletion by shifting back (no tombstones); the table grows
// at half full and shrinks at an eighth, so its size follows the live pins.
// Handles are safe integers >= 0; -1 marks an empty slot.
export class HandleTable {
  size = 0;
  private bits = 6;
  private mask = 63;
  private keys = new Float64Array(64).fill(-1);
  private firsts = new Float64Array(64);
  private seconds = new Float64Array(64);

  private home(h: number): number {
    // h | 0 keeps the low 32 bits exactly (ToInt32 is modulo 2^32); the high bits are folded in.
    return Math.imul((h | 0) ^ ((h / 4294967296) | 0), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The position of handle h, or -1 (positions move as others are removed: use one at once). */
  find(h: number): number {
    const keys = this.keys;
    for (let i = this.home(h); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === h) return i;
      if (k === -1) return -1;
    }
  }

  first(pos: number): number {
    return this.firsts[pos]!;
  }

  second(pos: number): number {
    return this.seconds[pos]!;
  }

  /** Adds h, which is not in the table (the caller checked). */
  add(h: number, first: number, second: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.resize(this.bits + 1);
    this.put(h, first, second);
    this.size++;
  }

  private put(h: number, first: number, second: number): void {
    const keys = this.keys;
    let i = this.home(h);
    while (keys[i] !== -1) i = (i + 1) & this.mask;
    keys[i] = h;
    this.firsts[i] = first;
    this.seconds[i] = second;
  }

  /** Removes the handle at `pos`; later entries of its probe run shift back into the gap. */
  removeAt(pos: number): void {
    const { keys, firsts, seconds, mask } = this;
    let i = pos;
    for (let j = (i + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const home = this.home(keys[j]!);
      // The entry at j may fill the gap at i unless its home lies cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      keys[i] = keys[j]!;
      firsts[i] = firsts[j]!;
      seconds[i] = seconds[j]!;
      i = j;
    }
    keys[i] = -1;
    this.size--;
    if (this.bits > 6 && this.size * 8 < keys.length) this.resize(this.bits - 1);
  }

  /** Every handle whose first number is `v` (a scan: only exits ask, and they are rare). */
  handlesWithFirst(v: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1 && this.firsts[i] === v) out.push(this.keys[i]!);
    return out;
  }

  private resize(bits: number): void {
    const { keys, firsts, seconds } = this;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.firsts = new Float64Array(1 << bits);
    this.seconds = new Float64Array(1 << bits);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.put(keys[i]!, firsts[i]!, seconds[i]!);
  }
}
