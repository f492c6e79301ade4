// WebDataset-style tar shards of image-text pairs: KEY.jpg|jpeg|png|webp + KEY.txt or KEY.json
// ({"caption"} or {"text"}), streamed shard by shard without unpacking.
import fs from 'node:fs';
import path from 'node:path';
import { isDetclipError } from '../errors.ts';
import { isRecord } from './fileHelpers.ts';
import { readTar, TarError } from './tarStream.ts';
import type { IssueHandler, Sample, SampleSource } from './types.ts';

const IMAGE_EXT = new Set(['jpg', 'jpeg', 'png', 'webp']);

/** WebDataset key/extension split: the key is the path up to the first dot of the base name. */
export function splitKey(name: string): { key: string; ext: string } {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot < 0) return { key: name, ext: '' };
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

/** Expands "shard-{000..009}.tar" brace ranges (WebDataset's notation) into file names. */
export function expandShards(pattern: string): string[] {
  const m = /\{(\d+)\.\.(\d+)\}/.exec(pattern);
  if (!m) return [pattern];
  const [whole, a, b] = m;
  const out: string[] = [];
  for (let i = Number(a); i <= Number(b); i++)
    out.push(...expandShards(pattern.replace(whole!, String(i).padStart(a!.length, '0'))));
  return out;
}

/** One pair from a group of tar members with the same key, or why it is not usable. */
function groupToSample(shard: string, key: string, files: Map<string, Uint8Array>): Sample | string {
  let image: Uint8Array | undefined;
  for (const [ext, data] of files) if (IMAGE_EXT.has(ext)) { image = data; break; }
  if (!image) return 'no image member (.jpg/.jpeg/.png/.webp)';
  let caption: string | undefined;
  const txt = files.get('txt');
  const json = files.get('json');
  if (txt) caption = Buffer.from(txt).toString('utf8');
  else if (json) {
    let v: unknown;
    try { v = JSON.parse(Buffer.from(json).toString('utf8')); } catch (err) { return `malformed JSON in ${key}.json (${(err as Error).message})`; }
    if (isRecord(v)) caption = typeof v.caption === 'string' ? v.caption : typeof v.text === 'string' ? v.text : undefined;
  } else return 'no caption member (.txt or .json)';
  if (caption === undefined || caption.trim() === '') return 'empty caption';
  return {
    kind: 'imageText', source: shard, record: `key ${key}`, image,
    boxes: [], boxConcepts: [], concepts: [], numPositive: 0, caption: caption.trim(),
  };
}

/** Streams the pairs of one shard. A corrupt/truncated shard reports one issue and ends early. */
export async function* readShard(shard: string, onIssue: IssueHandler): AsyncGenerator<Sample> {
  let stream: fs.ReadStream;
  let size: number;
  try {
    const st = await fs.promises.stat(shard);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    await fs.promises.access(shard, fs.constants.R_OK);
    size = st.size;
    stream = fs.createReadStream(shard, { highWaterMark: 1 << 20 });
  } catch (err) {
    onIssue({ file: shard, record: 'shard', message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    return;
  }
  let key: string | undefined;
  let files = new Map<string, Uint8Array>();
  const emit = (): Sample | undefined => {
    if (key === undefined) return undefined;
    const s = groupToSample(shard, key, files);
    if (typeof s === 'string') { onIssue({ file: shard, record: `key ${key}`, message: s }); return undefined; }
    return s;
  };
  try {
    for await (const entry of readTar(stream, { maxBytes: size })) {
      if (entry.type !== 'file') continue;
      const { key: k, ext } = splitKey(entry.name);
      if (k !== key) {
        const s = emit();
        if (s) yield s;
        key = k;
        files = new Map();
      }
      files.set(ext, entry.data);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const ioError = !isDetclipError(err) && typeof (err as NodeJS.ErrnoException).errno === 'number';
    if (!(err instanceof TarError) && !ioError) throw err; // e.g. the issue handler stopping the run
    stream.destroy();
    // The group in progress may be incomplete: drop it with the shard error.
    const message = err instanceof TarError ? err.message : `cannot read file (${code})`;
    onIssue({ file: shard, record: key === undefined ? 'shard' : `after key ${key}`, message });
    return;
  }
  const s = emit();
  if (s) yield s;
}

/** A source over one or more shards (brace patterns allowed), read in the given order. */
export function openWds(shards: string | string[]): SampleSource & { shards: string[] } {
  const list = (Array.isArray(shards) ? shards : [shards]).flatMap(expandShards).map((s) => path.resolve(s));
  async function* samples(onIssue: IssueHandler): AsyncGenerator<Sample> {
    for (const shard of list) yield* readShard(shard, onIssue);
  }
  return { kind: 'imageText', file: list[0] ?? '', shards: list, samples };
}
