// A progress bar on stderr (cli-progress: redraws in place and handles
// terminal width, which we would otherwise write and test ourselves).
import { SingleBar } from 'cli-progress';

export interface BatchProgress {
  update(done: number, total: number, events: number): void;
  stop(): void;
}

/** Seconds left at the rate so far; '?' before the first trace is done. */
export function etaText(done: number, total: number, elapsedSecs: number): string {
  if (done <= 0) return '?';
  const secs = Math.round(((total - done) * elapsedSecs) / done);
  return secs >= 60 ? `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s` : `${secs}s`;
}

export function createBatchProgress(): BatchProgress {
  const started = Date.now();
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'traces {bar} {value}/{total} | {rate} events/s | ETA {left}',
    hideCursor: true,
    clearOnComplete: true,
  });
  let begun = false;
  return {
    update(done, total, events) {
      const secs = Math.max((Date.now() - started) / 1000, 1e-3);
      const payload = { rate: Math.round(events / secs).toLocaleString('en-US'), left: etaText(done, total, secs) };
      if (!begun) {
        bar.start(total, done, payload);
        begun = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
