// Worker-thread entry: loads images (decode + augment + normalise) for the pool in workerPool.ts.
import { parentPort } from 'node:worker_threads';
import { loadImage, type ImageJob } from './imageOps.ts';

parentPort!.on('message', async ({ id, job }: { id: number; job: ImageJob }) => {
  try {
    const r = await loadImage(job);
    parentPort!.postMessage({ id, result: r }, [r.pixels.buffer as ArrayBuffer, r.boxes.buffer as ArrayBuffer, r.kept.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
