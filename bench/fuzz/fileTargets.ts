// Fuzz targets for the other files and strings detclip reads: safetensors, a model directory's config.json,
// vocabularies (--vocab-file / --vocab), `key=value` overrides and training config files, eval-json inputs.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseSafetensorsBytes } from '../../src/io/safetensorsFormat.ts';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/io/safetensors.ts';
import { readModelConfig } from '../../src/model/detclip.ts';
import { MODEL_PRESETS } from '../../src/config/model.ts';
import { inferenceSettings } from '../../src/infer/settings.ts';
import { vocabularyFromFile, vocabularyFromList } from '../../src/infer/vocabulary.ts';
import { applyOverrides, resolveTrainConfig } from '../../src/train/configOverrides.ts';
import { preset } from '../../src/train/trainConfig.ts';
import { loadDetectionsFile, loadGroundTruthFile } from '../../src/eval/loadJson.ts';
import type { GroundTruth, Protocol } from '../../src/eval/prepare.ts';
import { evaluateCocoPrepared } from '../../src/eval/cocoEval.ts';
import { evaluateLvisPrepared } from '../../src/eval/lvisEval.ts';
import { ensure, expectClean, hostileJson, jsonBytes, mutatedBytes, mutatedJson, randomBytes, type FuzzTarget } from './harness.ts';
import { FIXTURES, jsonInputs } from './dataTargets.ts';

const prod = (s: number[]): number => s.reduce((a, d) => a * d, 1);

interface StCtx { file: string; header: Record<string, unknown>; data: Uint8Array; valid: Uint8Array }
type StInput = { header?: unknown; lengthDelta?: number; bytes?: Uint8Array };

/** A safetensors file from a header object and data bytes; lengthDelta skews the declared header length. */
function stBytes(header: unknown, data: Uint8Array, lengthDelta = 0): Uint8Array {
  let json = JSON.stringify(header) ?? 'null';
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Math.max(0, Buffer.byteLength(json) + lengthDelta)));
  return new Uint8Array(Buffer.concat([len, Buffer.from(json), data]));
}

export const safetensorsTarget: FuzzTarget<StCtx, StInput> = {
  name: 'safetensors', about: 'readSafetensors / readSafetensorsHeader / parseSafetensorsBytes: header JSON mutated, header length skewed, bytes mutated, random', boundMs: 3000, testRuns: 300,
  async setup(dir) {
    const file = path.join(dir, 'model.safetensors');
    writeSafetensors(file, { 'a.weight': { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, 'a.bias': { shape: [3], data: [0, -1, 2] },
      step: { dtype: 'I32', shape: [], data: [7] }, ids: { dtype: 'I64', shape: [2], data: [1, -2] } }, { format: 'detclip-params' });
    const valid = new Uint8Array(fs.readFileSync(file));
    const n = Number(Buffer.from(valid).readBigUInt64LE(0));
    const header = JSON.parse(Buffer.from(valid.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
    // extra dtypes the writer does not produce: F16, BF16, U8, F64 after the written data
    const extra = Buffer.alloc(2 * 2 + 2 * 2 + 4 + 8);
    extra.writeUInt16LE(0x3c00, 0); extra.writeUInt16LE(0xfc00, 2); extra.writeUInt16LE(0x3f80, 4); extra.writeUInt16LE(0x7fc0, 6);
    extra.set([0, 1, 255, 9], 8); extra.writeDoubleLE(1e300, 12);
    const d0 = valid.length - 8 - n;
    Object.assign(header, { h: { dtype: 'F16', shape: [2], data_offsets: [d0, d0 + 4] }, bf: { dtype: 'BF16', shape: [2], data_offsets: [d0 + 4, d0 + 8] },
      u: { dtype: 'U8', shape: [2, 2], data_offsets: [d0 + 8, d0 + 12] }, f: { dtype: 'F64', shape: [1], data_offsets: [d0 + 12, d0 + 20] } });
    return { file, header, data: new Uint8Array(Buffer.concat([valid.subarray(8 + n), extra])), valid };
  },
  arbitrary: (c) => fc.oneof(
    { weight: 4, arbitrary: fc.record({ header: mutatedJson(c.header), lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, -8, 8, 1 << 20) }) },
    { weight: 3, arbitrary: mutatedBytes(stBytes(c.header, c.data)).map((bytes) => ({ bytes })) },
    { weight: 1, arbitrary: randomBytes(256).map((bytes) => ({ bytes })) },
  ),
  async run(c, input) {
    const bytes = input.bytes ?? stBytes(input.header, c.data, input.lengthDelta);
    fs.writeFileSync(c.file, bytes);
    await expectClean([c.file], () => readSafetensorsHeader(c.file));
    const r = await expectClean([c.file], () => readSafetensors(c.file));
    const mem = await expectClean([c.file], () => parseSafetensorsBytes(bytes, c.file));
    for (const tensors of [r?.tensors, mem]) {
      for (const [name, t] of tensors ?? []) ensure(t.data.length === prod(t.shape), `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`);
    }
    ensure((r === undefined) === (mem === undefined), `file and in-memory readers disagree (file ${r ? 'ok' : 'error'}, memory ${mem ? 'ok' : 'error'})`);
  },
};

interface CfgCtx { file: string; base: unknown }

export const modelConfigTarget: FuzzTarget<CfgCtx, Uint8Array> = {
  name: 'model-config', about: "readModelConfig + inferenceSettings on a model directory's config.json, mutated", boundMs: 2000, testRuns: 300,
  async setup(dir) {
    const base = { model: MODEL_PRESETS.tiny, inference: { resize: { mode: 'square', size: 128 }, padDivisor: 32, enrich: false }, train: preset('tiny') };
    return { file: path.join(dir, 'config.json'), base };
  },
  arbitrary: (c) => jsonInputs(c.base),
  async run(c, bytes) {
    fs.writeFileSync(c.file, bytes);
    const r = await expectClean([c.file], () => readModelConfig(c.file));
    if (!r) return;
    const { model: _m, ...extra } = r.raw;
    const s = await expectClean([c.file], () => inferenceSettings({ cfg: r.cfg }, extra, c.file));
    if (s) {
      const sides = s.resize.mode === 'square' ? [s.resize.size] : [s.resize.short, s.resize.max];
      ensure(sides.every((v) => Number.isInteger(v) && v > 0 && v <= 16384) && Number.isInteger(s.padDivisor) && s.padDivisor > 0, `unusable settings ${JSON.stringify(s)}`);
    }
  },
};

interface VocabCtx { file: string; lines: string; json: unknown; coco: unknown }
type VocabInput = { bytes: Uint8Array } | { list: string };

export const vocabTarget: FuzzTarget<VocabCtx, VocabInput> = {
  name: 'vocab', about: 'vocabularyFromFile (lines, JSON list, COCO categories) and vocabularyFromList (--vocab), mutated and random', boundMs: 2000, testRuns: 300,
  async setup(dir) {
    const gt = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'eval', 'lvis-100.json'), 'utf8')).gt as { categories: unknown[] };
    return { file: path.join(dir, 'vocab.txt'), lines: '# a comment\nred umbrella\r\ndog\n\n  hot dog  \n', json: ['cat', { id: 9, name: 'bus', synset: 'bus.n.01' }], coco: { categories: gt.categories } };
  },
  arbitrary: (c) => fc.oneof(
    fc.oneof(mutatedBytes(Buffer.from(c.lines)), jsonInputs(c.json), jsonInputs(c.coco)).map((bytes) => ({ bytes })),
    fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.constantFrom(',', ' ', 'dog', '', 'Dog', '\t', '\u00a0', 'a,b'), { maxLength: 12 }).map((a) => a.join(''))).map((list) => ({ list })),
  ),
  async run(c, input) {
    const where = 'bytes' in input ? c.file : '--vocab';
    if ('bytes' in input) fs.writeFileSync(c.file, input.bytes);
    const cats = await expectClean([where], () => ('bytes' in input ? vocabularyFromFile(c.file) : vocabularyFromList(input.list)));
    if (!cats) return;
    ensure(cats.length > 0, 'empty vocabulary returned');
    ensure(cats.every((k) => typeof k.name === 'string' && k.name.trim() !== '' && Number.isSafeInteger(k.id)), 'bad category returned');
    ensure(new Set(cats.map((k) => k.id)).size === cats.length, 'duplicate ids returned');
  },
};

interface OverrideCtx { file: string; keys: string[]; yaml: string }
type OverrideInput = { overrides: string[] } | { bytes: Uint8Array };

function leafPaths(v: unknown, at: string[] = []): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [at.join('.')];
  return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...at, k]));
}

const overrideValue = fc.oneof(
  fc.constantFrom('1', '0', '-1', '1e-3', '1e999', 'NaN', 'true', 'null', '[]', '{}', '[1,2]', '{"a":1}', '"x"', '[', '{', '', ' ', '0x10', '1_000', '.5', '5.', '-0'),
  hostileJson.map((v) => JSON.stringify(v) ?? ''), fc.string({ maxLength: 40 }),
);

export const overridesTarget: FuzzTarget<OverrideCtx, OverrideInput> = {
  name: 'overrides', about: 'applyOverrides (key=value) on the tiny preset, and resolveTrainConfig with a mutated YAML config file; Object.prototype must stay clean', boundMs: 2000, testRuns: 300,
  async setup(dir) {
    const p = preset('tiny');
    return { file: path.join(dir, 'train.yaml'), keys: leafPaths(p), yaml: YAML.stringify({ train: { lr: 0.001, steps: 10 }, data: p.data }) };
  },
  arbitrary: (c) => fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...c.keys), fc.constantFrom('__proto__.polluted', 'constructor.prototype.polluted', 'train.__proto__.polluted', 'train', '', '.', 'a..b', 'train.lr.x', 'nope'), fc.string({ maxLength: 20 })), fc.constantFrom('=', '', '==', ' = '), overrideValue)
      .map(([k, eq, v]) => `${k}${eq}${v}`), { minLength: 1, maxLength: 4 }).map((overrides) => ({ overrides })) },
    { weight: 2, arbitrary: fc.oneof(mutatedBytes(Buffer.from(c.yaml)), jsonInputs(YAML.parse(c.yaml)), randomBytes(200)).map((bytes) => ({ bytes })) },
  ),
  async run(c, input) {
    const before = Object.getOwnPropertyNames(Object.prototype).length;
    try {
      if ('overrides' in input) await expectClean(['override'], () => applyOverrides(preset('tiny'), input.overrides));
      else {
        fs.writeFileSync(c.file, input.bytes);
        await expectClean([c.file], () => resolveTrainConfig({ file: c.file }));
      }
    } finally {
      const polluted = Object.getOwnPropertyNames(Object.prototype).length !== before || ({} as Record<string, unknown>).polluted !== undefined;
      for (const k of Object.getOwnPropertyNames(Object.prototype).slice(before)) delete (Object.prototype as Record<string, unknown>)[k];
      ensure(!polluted, 'Object.prototype was polluted');
    }
  },
};

interface EvalCtx { gtFile: string; dtFile: string; gt: Record<Protocol, GroundTruth>; raw: Record<Protocol, { gt: unknown; dt: unknown }> }
type EvalInput = { protocol: Protocol; which: 'dt' | 'gt'; bytes: Uint8Array };

export const evalJsonTarget: FuzzTarget<EvalCtx, EvalInput> = {
  name: 'eval-json', about: 'loadDetectionsFile (results list, batched parser) and loadGroundTruthFile (COCO, LVIS), mutated', boundMs: 3000, testRuns: 200,
  async setup(dir) {
    const raw = { coco: JSON.parse(fs.readFileSync(path.join(FIXTURES, 'eval', 'coco-104.json'), 'utf8')), lvis: JSON.parse(fs.readFileSync(path.join(FIXTURES, 'eval', 'lvis-104.json'), 'utf8')) };
    const gtFile = path.join(dir, 'gt.json');
    const gt = {} as Record<Protocol, GroundTruth>;
    for (const p of ['coco', 'lvis'] as Protocol[]) { fs.writeFileSync(gtFile, JSON.stringify(raw[p].gt)); gt[p] = loadGroundTruthFile(gtFile, p); }
    return { gtFile, dtFile: path.join(dir, 'results.json'), gt, raw };
  },
  arbitrary: (c) => fc.constantFrom<Protocol>('coco', 'lvis').chain((protocol) => fc.oneof(
    { weight: 3, arbitrary: jsonInputs(c.raw[protocol].dt).map((bytes) => ({ protocol, which: 'dt' as const, bytes })) },
    { weight: 1, arbitrary: jsonInputs(c.raw[protocol].gt).map((bytes) => ({ protocol, which: 'gt' as const, bytes })) },
  )),
  async run(c, input) {
    const file = input.which === 'dt' ? c.dtFile : c.gtFile;
    fs.writeFileSync(file, input.bytes);
    if (input.which === 'gt') { await expectClean([file], () => loadGroundTruthFile(file, input.protocol)); return; }
    const d = await expectClean([file], () => loadDetectionsFile(file, c.gt[input.protocol]));
    if (!d) return;
    ensure(Array.from(d.score.subarray(0, d.n)).every(Number.isFinite), 'detections with non-finite scores');
    // what was accepted must evaluate: every stat a number in [0, 1] or -1 (no ground truth in that slice)
    const gt = c.gt[input.protocol];
    const res = await expectClean([file], () => (input.protocol === 'coco' ? evaluateCocoPrepared(gt, d) : evaluateLvisPrepared(gt, d)));
    for (const [k, v] of Object.entries(res?.stats ?? {})) ensure(v === -1 || (v >= 0 && v <= 1), `stat ${k} = ${v}`);
  },
};
