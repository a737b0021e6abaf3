// A replay worker thread: builds its share of the strategies' replay on
// the trace's header, replays the events the parsing thread sends over
// the wire, acknowledging each batch, and answers with its output (or its
// error, as data, so the caller rethrows the same one-line message).
import { parentPort, workerData } from 'node:worker_threads';
import { WireDecoder } from '../trace/wire.js';
import { ReplayPart } from './part.js';
import { toWire, type FromWorker, type ToWorker, type WorkerStart } from './part-worker.js';

const start = workerData as WorkerStart;
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);
const decoder = new WireDecoder();
let part: ReplayPart | null = null;
let failed = false;
// Building the part is async (collector modules load): messages are handled strictly in order.
let queue = Promise.resolve();

async function handle(msg: ToWorker): Promise<void> {
  if ('header' in msg) part = await ReplayPart.create(start.strategies, start.opts, msg.header);
  else if ('batch' in msg) {
    part!.feedWire(msg.batch, decoder);
    post({ ack: 1 });
  } else post({ result: part!.finish(msg.end) });
}

port.on('message', (msg: ToWorker) => {
  queue = queue.then(async () => {
    if (failed) return;
    try {
      await handle(msg);
    } catch (err) {
      failed = true;
      post({ error: toWire(err) });
    }
  });
});
