// A replay thread: opens and parses the trace itself and replays its share
// of the strategies; errors go back as data so the caller rethrows the same
// TraceInputError (same one-line message).
import { parentPort, workerData } from 'node:worker_threads';
import { runPart, toWire, type PartOptions } from './analyze.js';
import type { StrategyId } from '../replay/types.js';

const { path, strategies, opts, progress } = workerData as {
  path: string; strategies: StrategyId[]; opts: PartOptions; progress: boolean;
};

try {
  const onProgress = progress ? (bytes: number) => parentPort!.postMessage({ progress: bytes }) : undefined;
  const result = await runPart(path, strategies, opts, onProgress);
  parentPort!.postMessage({ result });
} catch (err) {
  parentPort!.postMessage({ error: toWire(err) });
}
