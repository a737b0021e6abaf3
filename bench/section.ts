// A section of `npm run bench`: each module measures one area and returns
// its part of the markdown report. bench/run.ts lists the sections.

export interface BenchContext {
  /** A scratch folder for generated inputs, removed after the run. */
  tmpDir: string;
  /** Write to stdout as the bench goes (progress lines). */
  log: (line: string) => void;
  /** `--quick`: smaller inputs, for a smoke run. */
  quick: boolean;
}

/** The median of a non-empty list (the upper middle of an even one). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A ratio as a percentage (whole by default). */
export function pct(x: number, digits = 0): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export interface BenchSection {
  name: string;
  /** Returns markdown (a table and notes) for the report. */
  run(ctx: BenchContext): Promise<string>;
}
