// Endless, seeded, resumable streams of raw samples, one per source:
//   IndexedStream: annotation files read once into memory (COCO, ODVG, pairs); a fresh permutation per epoch.
//   ShardStream:   WebDataset shards streamed; shard order permuted per epoch and a shuffle buffer.
// State is (epoch, position); a shard stream resumes by replaying its epoch up to the position.
import { Rng } from '../ops/rng.ts';
import type { IssueHandler, Sample, SampleSource } from './types.ts';
import { readShard } from './wdsReader.ts';

export interface StreamState { epoch: number; position: number }

export interface SampleStream {
  readonly source: SampleSource;
  next(): Promise<Sample>;
  getState(): StreamState;
  setState(s: StreamState): void;
}

export class EmptySourceError extends Error {}

/** A source read into memory; each epoch visits every sample once in a seeded random order. */
export class IndexedStream implements SampleStream {
  private order: number[] = [];
  private state: StreamState = { epoch: 0, position: 0 };

  private constructor(readonly source: SampleSource, readonly samples: Sample[], private readonly rng: Rng) {
    this.order = this.permutation(0);
  }

  static async open(source: SampleSource, rng: Rng, onIssue: IssueHandler): Promise<IndexedStream> {
    const samples: Sample[] = [];
    for await (const s of source.samples(onIssue)) samples.push(s);
    if (samples.length === 0) throw new EmptySourceError(`${source.file}: no usable ${source.kind} samples`);
    return new IndexedStream(source, samples, rng);
  }

  private permutation(epoch: number): number[] {
    return this.rng.fork(`epoch/${epoch}`).permutation(this.samples.length);
  }

  async next(): Promise<Sample> {
    if (this.state.position >= this.samples.length) {
      this.state = { epoch: this.state.epoch + 1, position: 0 };
      this.order = this.permutation(this.state.epoch);
    }
    return this.samples[this.order[this.state.position++]!]!;
  }

  getState(): StreamState { return { ...this.state }; }

  setState(s: StreamState): void {
    this.state = { ...s };
    this.order = this.permutation(s.epoch);
  }
}

/** Streams shards in a per-epoch order through a shuffle buffer (WebDataset style). */
export class ShardStream implements SampleStream {
  private state: StreamState = { epoch: 0, position: 0 };
  private iter: AsyncGenerator<Sample> | undefined;
  private iterEpoch = -1;
  private iterPos = 0;

  constructor(readonly source: SampleSource & { shards: string[] }, private readonly rng: Rng,
              private readonly bufferSize: number, private readonly onIssue: IssueHandler) {}

  private async *epochSamples(epoch: number): AsyncGenerator<Sample> {
    const r = this.rng.fork(`epoch/${epoch}`);
    const shards = r.shuffle([...this.source.shards]);
    const buf: Sample[] = [];
    for (const shard of shards) {
      for await (const s of readShard(shard, this.onIssue)) {
        if (buf.length < this.bufferSize) { buf.push(s); continue; }
        const j = r.int(buf.length);
        yield buf[j]!;
        buf[j] = s;
      }
    }
    r.shuffle(buf);
    yield* buf;
  }

  async next(): Promise<Sample> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.iter || this.iterEpoch !== this.state.epoch || this.iterPos > this.state.position) {
        this.iter = this.epochSamples(this.state.epoch);
        this.iterEpoch = this.state.epoch;
        this.iterPos = 0;
      }
      while (this.iterPos < this.state.position) { // resume: replay up to the saved position
        const r = await this.iter.next();
        if (r.done) break;
        this.iterPos++;
      }
      const r = await this.iter.next();
      if (!r.done) {
        this.iterPos++;
        this.state.position++;
        return r.value;
      }
      if (this.state.position === 0) break; // a whole epoch gave nothing
      this.state = { epoch: this.state.epoch + 1, position: 0 };
    }
    throw new EmptySourceError(`${this.source.file}: no usable imageText samples in ${this.source.shards.length} shard(s)`);
  }

  getState(): StreamState { return { ...this.state }; }
  setState(s: StreamState): void { this.state = { ...s }; }
}
