// A progress bar on stderr (cli-progress: redraws in place and handles
// terminal width, which we would otherwise write and test ourselves).
import { SingleBar } from 'cli-progress';

export interface BatchProgress {
  update(done: number, total: number, events: number): void;
  stop(): void;
}

export function createBatchProgress(): BatchProgress {
  const started = Date.now();
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'traces {bar} {value}/{total} | {rate} events/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: true,
  });
  let begun = false;
  return {
    update(done, total, events) {
      const secs = Math.max((Date.now() - started) / 1000, 1e-3);
      const rate = Math.round(events / secs).toLocaleString('en-US');
      if (!begun) {
        bar.start(total, 0, { rate });
        begun = true;
      }
      bar.update(done, { rate });
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
