// A replay worker thread: replays its share of the strategies on events
// the parsing thread sends over the wire, acknowledging each batch, and
// answers with its output (or its error, as data, so the caller rethrows
// the same one-line message).
import { parentPort, workerData } from 'node:worker_threads';
import { WireDecoder } from '../trace/wire.js';
import { ReplayPart } from './part.js';
import { toWire, type FromWorker, type ToWorker, type WorkerStart } from './part-worker.js';

const start = workerData as WorkerStart;
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);

try {
  const part = await ReplayPart.create(start.strategies, start.opts, start.header);
  const decoder = new WireDecoder();
  port.on('message', (msg: ToWorker) => {
    try {
      if ('batch' in msg) {
        part.feedBatch(decoder.decode(msg.batch));
        post({ ack: 1 });
      } else {
        post({ result: part.finish(msg.end) });
      }
    } catch (err) {
      post({ error: toWire(err) });
    }
  });
} catch (err) {
  post({ error: toWire(err) });
}
