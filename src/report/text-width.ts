// How wide a line of sans-serif text is, for layout done in Node: the
// static SVG (svg.ts) and the who-pays label placement (model.ts).
/**
 * Helvetica's advance widths (AFM, per 1000 em) for ASCII 32..126: what a
 * system sans-serif measures, near enough, with no canvas and no font file.
 */
const SANS_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/** Browsers' sans-serif (DejaVu Sans on Linux) runs wider than Helvetica: round up rather than clip. */
const SANS_SLACK = 1.1;

/** Text width in px of `text` at `fontSize` (bold a little wider). */
export function sansTextWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    em += c >= 32 && c <= 126 ? SANS_WIDTHS[c - 32]! : 600;
  }
  return (em / 1000) * fontSize * SANS_SLACK * (bold ? 1.07 : 1);
}

