// The training data loader: one data kind per iteration, picked by the configured ratios (seeded), its batch
// drawn from that kind's sources, concepts completed, images loaded by the worker pool, then collated.
// Everything random hangs off Rng.fork(iteration), so batches are reproducible and resumable.
import { UserError } from '../errors.ts';
import { Rng } from '../ops/rng.ts';
import { collate } from './collate.ts';
import { dictionaryTexts, loadConceptDictionary } from './conceptDictionary.ts';
import { kindConfig, type DataConfig } from './config.ts';
import { DataFileError } from './fileHelpers.ts';
import { IMAGENET_NORM, type ImageJob, type LoadedImage } from './imageOps.ts';
import { completeConcepts, type ConceptContext } from './negatives.ts';
import { openSource } from './openSource.ts';
import { EmptySourceError, IndexedStream, ShardStream, type SampleStream, type StreamState } from './sampleStreams.ts';
import { drawAugment } from './transforms.ts';
import { formatIssue, SAMPLE_KINDS, type Batch, type DataIssue, type Sample, type SampleKind } from './types.ts';
import { ImageLoaderPool } from './workerPool.ts';

export interface LoaderOptions {
  seed: number;
  workers?: number;        // image worker threads (default 0: in-process)
  prefetch?: number;       // batches prepared ahead (default 2)
  onWarning?: (msg: string) => void;  // skipped-record notices; default: none
  maxWarnings?: number;    // warnings printed before going quiet (default 10; all are counted)
  /**
   * Distributed data parallelism: this process is `rank` of `world`. Every rank draws the same global batch of
   * each iteration (same kind, samples and random choices as one process) and keeps the contiguous slice
   * [floor(B·rank/world), floor(B·(rank+1)/world)) of it; WebDataset shards are split by rank instead (shard i
   * goes to rank i mod world), so no rank reads another's tars.
   */
  shard?: { rank: number; world: number };
}

export interface LoaderState { iteration: number; streams: StreamState[] }

export interface LoaderStats {
  batches: number;
  byKind: Record<SampleKind, number>;
  skippedRecords: number;  // bad annotation records (reader issues)
  skippedImages: number;   // images that failed to decode
  droppedBoxes: number;    // boxes degenerate after augmentation
  sizeMismatches: number;  // decoded size != the record's width/height (boxes rescaled)
}

export interface MixedLoader {
  readonly kinds: SampleKind[];
  next(): Promise<Batch>;
  getState(): LoaderState;
  /** Restores getState()'s value (e.g. from a checkpoint's JSON); prefetched batches are discarded. */
  setState(s: unknown): void;
  stats(): LoaderStats;
  close(): Promise<void>;
}

interface Drawn { iteration: number; kind: SampleKind; samples: Sample[]; jobs: ImageJob[]; stateAfter: LoaderState }

export async function createMixedLoader(cfg: DataConfig, opts: LoaderOptions): Promise<MixedLoader> {
  const root = new Rng(opts.seed);
  const maxWarnings = opts.maxWarnings ?? 10;
  const warn = opts.onWarning ?? ((): void => {}); // the CLI passes its stderr logger
  const st: LoaderStats = { batches: 0, byKind: { detection: 0, grounding: 0, imageText: 0 }, skippedRecords: 0, skippedImages: 0, droppedBoxes: 0, sizeMismatches: 0 };
  let warned = 0;
  const warnOnce = (m: string): void => {
    if (warned < maxWarnings) warn(m);
    else if (warned === maxWarnings) warn('further data warnings are counted but not printed');
    warned++;
  };
  const onIssue = (i: DataIssue): void => { st.skippedRecords++; warnOnce(`skipped ${formatIssue(i)}`); };

  // Open every source; annotation files are read into memory, shards are streamed.
  const streams: SampleStream[] = [];
  const weights: number[] = [];
  const shard = opts.shard ?? { rank: 0, world: 1 };
  const vocabularies = new Map<string, readonly string[]>();
  for (const [i, src] of cfg.sources.entries()) {
    const source = openSource(src, { enrich: { enabled: cfg.enrich }, textOverrides: cfg.textOverrides });
    const rng = root.fork(`source/${i}`);
    try {
      const stream = src.format === 'wds'
        ? new ShardStream(shardsOfRank(source as ConstructorParameters<typeof ShardStream>[0], shard), rng, src.shuffleBuffer, onIssue)
        : await IndexedStream.open(source, rng, onIssue);
      streams.push(stream);
    } catch (err) {
      if (err instanceof EmptySourceError || err instanceof DataFileError) throw new UserError(err.message);
      throw err;
    }
    weights.push(src.weight);
    if (source.kind === 'detection') {
      const s = streams[streams.length - 1]!;
      vocabularies.set(source.file, source.vocabulary ?? [...new Set((s as IndexedStream).samples.flatMap((x) => x.concepts))]);
    }
  }

  // Grounding negatives come from the concept dictionary, else from every grounding phrase seen.
  let dictionary: string[] = [];
  if (cfg.conceptDictionary) {
    try { dictionary = dictionaryTexts(loadConceptDictionary(cfg.conceptDictionary)); } catch (err) { throw new UserError((err as Error).message); }
  } else {
    dictionary = [...new Set(streams.filter((s) => s.source.kind === 'grounding')
      .flatMap((s) => (s as IndexedStream).samples.flatMap((x) => x.concepts.slice(0, x.numPositive))))];
  }
  // No ratios given: every kind with a source counts 1; otherwise an unnamed kind counts 0.
  const ratioOf = (k: SampleKind): number => (Object.keys(cfg.ratios).length === 0 ? 1 : cfg.ratios[k] ?? 0);
  const kinds = SAMPLE_KINDS.filter((k) => streams.some((s) => s.source.kind === k) && ratioOf(k) > 0);
  if (kinds.length === 0) throw new UserError('data config: no source of a kind with a positive ratio');
  const kindWeights = kinds.map(ratioOf);
  for (const k of kinds) {
    const b = kindConfig(cfg, k).batchSize;
    if (b < shard.world) throw new UserError(`data config: ${k} batch size ${b} is smaller than the ${shard.world} processes (batch sizes are global)`);
  }
  const ctx: ConceptContext = {
    maxConcepts: { detection: kindConfig(cfg, 'detection').maxConcepts!, grounding: kindConfig(cfg, 'grounding').maxConcepts! },
    vocabularies, dictionary,
  };
  const norm = cfg.normalization ?? IMAGENET_NORM;
  const pool = new ImageLoaderPool(opts.workers ?? 0);

  let drawIteration = 0;
  const snapshot = (): LoaderState => ({ iteration: drawIteration, streams: streams.map((s) => s.getState()) });

  /** Draws iteration t's samples and random choices (must run strictly in order). */
  async function draw(): Promise<Drawn> {
    const t = drawIteration;
    const r = root.fork(`iter/${t}`);
    const kind = kinds[r.choiceWeighted(kindWeights)]!;
    const kc = kindConfig(cfg, kind);
    const idx = streams.map((s, i) => (s.source.kind === kind ? i : -1)).filter((i) => i >= 0);
    const samples: Sample[] = [];
    const jobs: ImageJob[] = [];
    const lo = Math.floor((kc.batchSize * shard.rank) / shard.world);
    const hi = Math.floor((kc.batchSize * (shard.rank + 1)) / shard.world);
    for (let b = 0; b < kc.batchSize; b++) {
      const ir = r.fork(`image/${b}`);
      const stream = streams[idx[ir.choiceWeighted(idx.map((i) => weights[i]!))]!]!;
      const mine = b >= lo && b < hi;
      if (!mine && stream instanceof ShardStream) continue; // other ranks read their own shards
      let raw: Sample;
      try {
        raw = await stream.next();
      } catch (err) {
        if (err instanceof EmptySourceError) throw new UserError(err.message);
        throw err;
      }
      if (!mine) continue; // in-memory streams advance for the whole global batch, so positions match one process
      const s = completeConcepts(raw, ctx, ir.fork('concepts'));
      samples.push(s);
      jobs.push({ image: s.image, refW: s.width, refH: s.height, boxes: s.boxes, resize: kc.resize, draw: drawAugment(kc, ir.fork('augment')), norm, minBoxSize: kc.minBoxSize });
    }
    drawIteration = t + 1;
    return { iteration: t, kind, samples, jobs, stateAfter: snapshot() };
  }

  /** Loads and collates a drawn batch; undefined when every image failed. */
  async function build(d: Drawn): Promise<{ batch?: Batch; stateAfter: LoaderState }> {
    const results = await Promise.all(d.jobs.map((j) => pool.load(j).catch((e: Error) => e)));
    const okSamples: Sample[] = [];
    const okImages: LoadedImage[] = [];
    results.forEach((r, i) => {
      const s = d.samples[i]!;
      if (r instanceof Error) {
        st.skippedImages++;
        warnOnce(`skipped ${s.source}: ${s.record}: cannot decode image ${typeof s.image === 'string' ? s.image : '(tar member)'} (${r.message})`);
        return;
      }
      st.droppedBoxes += r.dropped;
      if (r.sizeMismatch) st.sizeMismatches++;
      okSamples.push(s);
      okImages.push(r);
    });
    if (okSamples.length === 0) return { stateAfter: d.stateAfter };
    const kc = kindConfig(cfg, d.kind);
    const padTo: [number, number] | undefined = kc.resize.mode === 'square' ? [kc.resize.size, kc.resize.size] : undefined;
    const batch = collate(d.kind, okSamples, okImages, { padTo, padDivisor: kc.padDivisor });
    return { batch: { ...batch, iteration: d.iteration }, stateAfter: d.stateAfter };
  }

  const prefetch = Math.max(1, opts.prefetch ?? 2);
  let drawChain: Promise<unknown> = Promise.resolve();
  let queue: Promise<{ batch?: Batch; stateAfter: LoaderState }>[] = [];
  let current: LoaderState = snapshot();
  let generation = 0;

  const schedule = (): void => {
    const gen = generation;
    const drawn = drawChain.then(() => {
      if (gen !== generation) throw new Error('stale');
      return draw();
    });
    drawChain = drawn.catch(() => undefined);
    const built = drawn.then(build);
    built.catch(() => undefined); // observed here so a failure after close()/setState() is not "unhandled"
    queue.push(built);
  };

  return {
    kinds,
    async next(): Promise<Batch> {
      for (;;) {
        while (queue.length < prefetch) schedule();
        const r = await queue.shift()!;
        current = r.stateAfter;
        if (r.batch) {
          st.batches++;
          st.byKind[r.batch.kind]++;
          return r.batch;
        }
      }
    },
    getState: () => structuredClone(current),
    setState(raw: unknown): void {
      const s = raw as LoaderState;
      const okPos = (x: StreamState | undefined) => !!x && Number.isInteger(x.epoch) && Number.isInteger(x.position) && x.epoch >= 0 && x.position >= 0;
      if (!s || !Number.isInteger(s.iteration) || !Array.isArray(s.streams) || s.streams.length !== streams.length || !s.streams.every(okPos))
        throw new Error(`data loader state does not fit this data config (${streams.length} sources): ${JSON.stringify(raw)?.slice(0, 200)}`);
      generation++;
      queue = []; // prefetched batches belong to the old position
      const apply = (): void => {
        streams.forEach((x, i) => x.setState(s.streams[i]!));
        drawIteration = s.iteration;
      };
      drawChain = drawChain.then(apply, apply);
      current = structuredClone(s);
    },
    stats: () => structuredClone(st),
    close: () => pool.close(),
  };
}

/** A rank's share of a WebDataset source: shard i goes to rank i mod world. */
function shardsOfRank<S extends { file: string; shards: string[] }>(source: S, shard: { rank: number; world: number }): S {
  if (shard.world === 1) return source;
  const shards = source.shards.filter((_, i) => i % shard.world === shard.rank);
  if (shards.length === 0) throw new UserError(`${source.file}: ${source.shards.length} shard(s) for ${shard.world} processes: rank ${shard.rank} gets none (split the data into at least as many shards as processes)`);
  return { ...source, shards }; // ShardStream reads source.shards itself
}
