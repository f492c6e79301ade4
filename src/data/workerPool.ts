// A pool of worker threads that load images, so decoding and augmentation overlap training on the main
// thread. With 0 workers images load in-process (sharp still decodes off the JS thread). Results are the
// same either way: all random choices arrive in the job.
import { Worker } from 'node:worker_threads';
import { loadImage, type ImageJob, type LoadedImage } from './imageOps.ts';

interface Pending { resolve: (r: LoadedImage) => void; reject: (e: Error) => void }

interface Slot { worker: Worker; busy: number }

/**
 * Worker bootstrap. From the TypeScript sources (tests, `tsx`) register tsx's loader in the thread first;
 * from the compiled package (dist/*.js) import the JavaScript entry directly, with no loader.
 */
function bootstrapCode(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './imageWorker.ts' : './imageWorker.js', import.meta.url).href;
  if (!fromSource) return `import(${JSON.stringify(entry)});`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}

export class ImageLoaderPool {
  private slots: Slot[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(readonly workers: number) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(bootstrapCode(), { eval: true });
      worker.unref(); // an idle pool never keeps the process alive
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (m: { id: number; result?: LoadedImage; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--slot.busy === 0) worker.unref();
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result!);
      });
      // A dead worker fails its jobs and leaves the pool (with none left, images load in-process).
      const drop = (err: Error): void => {
        this.slots = this.slots.filter((x) => x !== slot);
        this.failAll(err);
      };
      worker.on('error', drop);
      worker.on('exit', (code) => { if (!this.closed) drop(new Error(`image worker exited with code ${code}`)); });
      this.slots.push(slot);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Loads one image (in the least busy worker, or in-process without workers). */
  load(job: ImageJob): Promise<LoadedImage> {
    if (this.closed) return Promise.reject(new Error('image pool is closed'));
    if (this.slots.length === 0) return loadImage(job);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref(); // keep the process alive while work is in flight
    return new Promise<LoadedImage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('image pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
