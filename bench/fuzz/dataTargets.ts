// Fuzz targets for the dataset readers (src/data): COCO and LVIS JSON, ODVG JSONL (+ label map), image-text pairs
// (JSONL and TSV) and WebDataset tar shards. Each mutates real valid inputs (the eval fixtures' ground truth, or
// files made here) and also feeds random bytes.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { openCoco } from '../../src/data/cocoReader.ts';
import { openOdvg } from '../../src/data/odvgReader.ts';
import { openPairs } from '../../src/data/pairsReader.ts';
import { readShard } from '../../src/data/wdsReader.ts';
import { readTar } from '../../src/data/tarStream.ts';
import type { DataIssue, Sample, SampleSource } from '../../src/data/types.ts';
import { checkIssues, ensure, expectClean, jsonBytes, mutatedBytes, mutatedJson, randomBytes, type FuzzTarget } from './harness.ts';
import { tarArchive, tarMembers, type TarMember } from './tarWriter.ts';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'fixtures');

/** Valid JSON bytes mutated structurally or byte-wise, or random bytes (weights 4 : 4 : 1). */
export function jsonInputs(base: unknown): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(base).map(jsonBytes) },
    { weight: 4, arbitrary: mutatedBytes(jsonBytes(base)) },
    { weight: 1, arbitrary: randomBytes() },
  );
}

/** JSONL: records mutated structurally (one per line) or the text byte-wise, or random bytes. */
function jsonlInputs(records: unknown[]): fc.Arbitrary<Uint8Array> {
  const lines = (rs: unknown): Uint8Array => Buffer.from((Array.isArray(rs) ? rs : [rs]).map((r) => JSON.stringify(r) ?? '').join('\n') + '\n');
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(records).map(lines) },
    { weight: 4, arbitrary: mutatedBytes(lines(records)) },
    { weight: 1, arbitrary: randomBytes() },
  );
}

const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** Drains a source: samples must be well-formed, issues must name the file and a record, errors the file. */
async function drain(src: SampleSource | undefined, file: string): Promise<Sample[]> {
  if (!src) return [];
  const issues: DataIssue[] = [];
  const samples: Sample[] = [];
  await expectClean([file], async () => { for await (const s of src.samples((i) => issues.push(i))) samples.push(s); });
  checkIssues(issues, [file]);
  for (const s of samples) {
    ensure(s.source === file && typeof s.record === 'string' && s.record !== '', `sample without source/record: ${JSON.stringify(s.record)}`);
    ensure(typeof s.image === 'string' ? s.image !== '' : s.image instanceof Uint8Array, `${s.record}: bad image ${String(s.image)}`);
    ensure(s.boxes.length === s.boxConcepts.length, `${s.record}: ${s.boxes.length} boxes, ${s.boxConcepts.length} box concepts`);
    for (const b of s.boxes) ensure(b.length === 4 && b.every(finite) && b[2]! > b[0]! && b[3]! > b[1]!, `${s.record}: bad box ${JSON.stringify(b)}`);
    ensure(s.boxConcepts.every((k) => Number.isInteger(k) && k >= 0 && k < s.concepts.length), `${s.record}: box concept out of range`);
    ensure(s.concepts.every((c) => typeof c === 'string' && c.trim() !== ''), `${s.record}: empty concept`);
    ensure(s.numPositive === s.concepts.length, `${s.record}: numPositive ${s.numPositive} vs ${s.concepts.length} concepts`);
    if (s.width !== undefined || s.height !== undefined) ensure(Number.isInteger(s.width) && s.width! > 0 && Number.isInteger(s.height) && s.height! > 0, `${s.record}: bad size`);
    if (s.kind === 'imageText') ensure(typeof s.caption === 'string' && s.caption.trim() !== '', `${s.record}: empty caption`);
  }
  return samples;
}

const readFixture = (name: string): { gt: unknown; dt: unknown } => JSON.parse(fs.readFileSync(path.join(FIXTURES, 'eval', name), 'utf8'));

interface FileCtx { file: string; base: unknown }

function annotationTarget(name: string, fixture: string, enrich: boolean, testRuns: number): FuzzTarget<FileCtx, Uint8Array> {
  return {
    name, about: `openCoco + samples() on ${fixture}'s ground truth, mutated${enrich ? ' (WordNet enrichment on)' : ''}`,
    boundMs: 5000, testRuns,
    async setup(dir) { return { file: path.join(dir, 'annotations.json'), base: readFixture(fixture).gt }; },
    arbitrary: (c) => jsonInputs(c.base),
    async run(c, bytes) {
      fs.writeFileSync(c.file, bytes);
      const src = await expectClean([c.file], () => openCoco(c.file, { enrich: { enabled: enrich } }));
      if (src) ensure(src.vocabulary.length === src.categories.length && src.vocabulary.every((v) => typeof v === 'string' && v !== ''), 'bad vocabulary');
      await drain(src, c.file);
    },
  };
}

export const cocoTarget = annotationTarget('coco', 'coco-100.json', false, 150);
export const lvisTarget = annotationTarget('lvis', 'lvis-100.json', true, 100);

interface OdvgCtx { file: string; labelMap: string; det: unknown[]; grd: unknown[]; map: unknown }
type OdvgInput = { kind: 'detection' | 'grounding'; lines: Uint8Array; map?: Uint8Array };

export const odvgTarget: FuzzTarget<OdvgCtx, OdvgInput> = {
  name: 'odvg', about: 'openOdvg (detection with a label map, grounding) + samples(), mutated records and label maps', boundMs: 3000, testRuns: 200,
  async setup(dir) {
    const det = [
      { filename: 'a.jpg', height: 100, width: 120, detection: { instances: [{ bbox: [1, 2, 30, 40], label: 0, category: 'cat' }, { bbox: [50, 50, 119, 99], label: 1, category: 'dog' }] } },
      { filename: 'sub/b.png', height: 10, width: 10, detection: { instances: [{ bbox: [0, 0, 10, 10], label: 1, category: 'dog' }] } },
    ];
    const grd = [
      { filename: 'c.jpg', height: 64, width: 64, grounding: { caption: 'a red car next to a tree', regions: [{ bbox: [1, 1, 20, 20], phrase: 'a red car', tokens_positive: [[0, 9]] }, { bbox: [[30, 2, 60, 60], [5, 5, 9, 9]], tokens_positive: [[19, 25]] }] } },
      { filename: 'd.jpg', grounding: { caption: 'two dogs', regions: [{ bbox: [1, 1, 2, 2], phrase: 'dogs' }] } },
    ];
    return { file: path.join(dir, 'records.odvg.jsonl'), labelMap: path.join(dir, 'label_map.json'), det, grd, map: { 0: 'cat', 1: { name: 'dog', synset: 'dog.n.01' } } };
  },
  arbitrary: (c) => fc.oneof(
    fc.record({ kind: fc.constant('detection' as const), lines: jsonlInputs(c.det), map: fc.option(jsonInputs(c.map), { nil: undefined }) }),
    fc.record({ kind: fc.constant('grounding' as const), lines: jsonlInputs(c.grd) }),
  ),
  async run(c, input) {
    fs.writeFileSync(c.file, input.lines);
    fs.writeFileSync(c.labelMap, input.map ?? jsonBytes(c.map));
    const names = input.kind === 'detection' ? [c.file, c.labelMap] : [c.file];
    const src = await expectClean(names, () => openOdvg(c.file, { kind: input.kind, labelMap: input.kind === 'detection' ? c.labelMap : undefined, enrich: { enabled: false } }));
    await drain(src, c.file);
  },
};

interface PairsCtx { jsonl: string; tsv: string; records: unknown[]; tsvText: string }
type PairsInput = { format: 'jsonl' | 'tsv'; bytes: Uint8Array };

export const pairsTarget: FuzzTarget<PairsCtx, PairsInput> = {
  name: 'pairs', about: 'openPairs (JSONL and TSV) + samples(), mutated', boundMs: 3000, testRuns: 200,
  async setup(dir) {
    const records = [{ image: 'a.jpg', caption: 'a dog on a sofa' }, { image: '/abs/b.png', caption: 'two cats' }, { image: 'c.webp', caption: 'ünïcode café' }];
    return { jsonl: path.join(dir, 'pairs.jsonl'), tsv: path.join(dir, 'pairs.tsv'), records, tsvText: 'a.jpg\ta dog on a sofa\nb.png\ttwo cats\r\n\nc.jpg\tthree\tbirds\n' };
  },
  arbitrary: (c) => fc.oneof(
    fc.record({ format: fc.constant('jsonl' as const), bytes: jsonlInputs(c.records) }),
    fc.record({ format: fc.constant('tsv' as const), bytes: fc.oneof(mutatedBytes(Buffer.from(c.tsvText)), randomBytes()) }),
  ),
  async run(c, input) {
    const file = input.format === 'jsonl' ? c.jsonl : c.tsv;
    fs.writeFileSync(file, input.bytes);
    await drain(await expectClean([file], () => openPairs(file)), file);
  },
};

interface WdsCtx { file: string; members: TarMember[] }
type WdsInput = { members: TarMember[]; fixChecksums: boolean; mutate: boolean; bytes?: Uint8Array; raw?: Uint8Array };

export const wdsTarget: FuzzTarget<WdsCtx, WdsInput> = {
  name: 'wds', about: 'readShard and readTar on WebDataset shards: header fields mutated (checksums fixed or not), bytes mutated, truncated, random', boundMs: 3000, testRuns: 200,
  async setup(dir) { return { file: path.join(dir, 'shard-000.tar'), members: await tarMembers() }; },
  arbitrary: (c) => fc.oneof(
    { weight: 4, arbitrary: fc.record({ members: mutatedMembers(c.members), fixChecksums: fc.boolean(), mutate: fc.constant(false) }) },
    { weight: 3, arbitrary: mutatedBytes(tarArchive(c.members, true)).map((bytes) => ({ members: [], fixChecksums: true, mutate: true, bytes })) },
    { weight: 1, arbitrary: randomBytes(2048).map((raw) => ({ members: [], fixChecksums: true, mutate: true, raw })) },
  ),
  async run(c, input) {
    const bytes = input.raw ?? input.bytes ?? tarArchive(input.members, input.fixChecksums);
    fs.writeFileSync(c.file, bytes);
    const issues: DataIssue[] = [];
    const samples: Sample[] = [];
    await expectClean([c.file], async () => { for await (const s of readShard(c.file, (i) => issues.push(i))) samples.push(s); });
    checkIssues(issues, [c.file]);
    for (const s of samples) ensure(s.image instanceof Uint8Array && typeof s.caption === 'string' && s.caption.trim() !== '', `${s.record}: bad pair`);
    // the bare tar reader over a stream that does not know its size: entries, or a TarError (names no file: any record)
    await expectClean(['archive', 'tar', 'header', 'byte'], async () => {
      for await (const e of readTar(Readable.from([Buffer.from(bytes)]))) ensure(e.data.length === (e.type === 'file' ? e.size : 0), `entry ${e.name}: ${e.data.length} bytes for size ${e.size}`);
    });
  },
};

/** Tar members with header fields replaced by hostile values (declared sizes, type flags, names, magic). */
function mutatedMembers(base: TarMember[]): fc.Arbitrary<TarMember[]> {
  const edit = fc.record({
    i: fc.nat(),
    field: fc.constantFrom('size', 'type', 'name', 'magic', 'drop', 'data'),
    size: fc.oneof(fc.constantFrom('77777777777', '7777777777777', '-1', '1e3', 'zz', '', ' 12 ', '0'), fc.nat({ max: 1 << 20 }).map((n) => n.toString(8)),
      fc.constant('\x80\x00\x00\x00\x00\x00\x00\x00\x7f\xff\xff\xff'), fc.constant('\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff')),
    type: fc.constantFrom('0', '\0', '5', '7', 'L', 'x', 'g', 'K', '2', 'S', 'V'),
    name: fc.oneof(fc.constantFrom('', '.', '/', '..', 'a/../../x.txt', 'x'.repeat(99), 'k.', '.txt', 'key.JPG', 'key.tar.gz'), fc.string({ maxLength: 100 })),
    data: fc.uint8Array({ maxLength: 700 }),
  });
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    const ms = base.map((m) => ({ ...m }));
    for (const e of edits) {
      if (ms.length === 0) break;
      const m = ms[e.i % ms.length]!;
      if (e.field === 'size') m.declaredSize = e.size;
      else if (e.field === 'type') m.type = e.type;
      else if (e.field === 'name') m.name = e.name;
      else if (e.field === 'magic') m.magic = e.name.slice(0, 6);
      else if (e.field === 'data') m.data = e.data;
      else ms.splice(e.i % ms.length, 1);
    }
    return ms;
  });
}
