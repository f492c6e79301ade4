// An ONNX export directory (detclip export-onnx) under hostile edits: manifest.json mutated as JSON and as bytes,
// and image.onnx / text.onnx with their graph structure mutated (the node list comes first in the protobuf, so
// the edits hit the first KiB) and the manifest's size and SHA-256 fixed up, so that onnxruntime itself sees the
// damaged graph. Property: reading the export, opening its sessions and one detection either work or throw
// detclip's error naming the file; nothing else escapes, within the bound.
import crypto from 'node:crypto';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { resolveModelConfig } from '../../src/config/model.ts';
import { createDetector } from '../../src/infer/detector.ts';
import { buildDetClip, saveModelDir } from '../../src/model/detclip.ts';
import { exportOnnx } from '../../src/onnx/exportOnnx.ts';
import { EXPORT_FILES, readOnnxExport } from '../../src/onnx/manifest.ts';
import { expectClean, jsonBytes, mutatedBytes, mutatedJson, type FuzzTarget } from './harness.ts';

interface OnnxCtx { good: string; dir: string; manifest: Record<string, unknown>; image: Uint8Array; text: Uint8Array }
type OnnxInput =
  | { kind: 'manifest-json'; value: unknown }
  | { kind: 'manifest-bytes'; bytes: Uint8Array }
  | { kind: 'graph'; which: 'image' | 'text'; head: Uint8Array };

const HEAD = 2048; // bytes of each graph the structural mutations edit
const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const pixels = { data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64, channels: 3 as const };

export const onnxTarget: FuzzTarget<OnnxCtx, OnnxInput> = {
  name: 'onnx', about: 'readOnnxExport + createDetector({engine:"onnx"}) + one detect: manifest.json mutated (JSON, bytes), graphs structurally mutated with sizes/SHA-256 fixed', boundMs: 10000, testRuns: 40,
  async setup(dir) {
    await initBackend();
    const weights = path.join(dir, 'model');
    const model = buildDetClip(resolveModelConfig('tiny', { text: { width: 16, heads: 2, layers: 1, outputDim: 16 }, head: { embedDim: 16, towerConvs: 1, gnGroups: 4 }, fpn: { outChannels: 16 } }), 1);
    saveModelDir(weights, model, { inference: { resize: { mode: 'square', size: 64 }, padDivisor: 32, enrich: false } });
    model.dispose();
    const good = path.join(dir, 'onnx');
    await exportOnnx(weights, good);
    const read = (f: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(good, f)));
    return {
      good, dir: path.join(dir, 'case'), manifest: JSON.parse(fs.readFileSync(path.join(good, EXPORT_FILES.manifest), 'utf8')) as Record<string, unknown>,
      image: read(EXPORT_FILES.image), text: read(EXPORT_FILES.text),
    };
  },
  arbitrary(ctx) {
    return fc.oneof(
      mutatedJson(ctx.manifest, 3).map((value) => ({ kind: 'manifest-json' as const, value })),
      mutatedBytes(jsonBytes(ctx.manifest)).map((bytes) => ({ kind: 'manifest-bytes' as const, bytes })),
      fc.constantFrom('image' as const, 'text' as const).chain((which) =>
        mutatedBytes((which === 'image' ? ctx.image : ctx.text).subarray(0, HEAD), 4).map((head) => ({ kind: 'graph' as const, which, head }))),
    );
  },
  async run(ctx, input) {
    fs.rmSync(ctx.dir, { recursive: true, force: true });
    fs.cpSync(ctx.good, ctx.dir, { recursive: true });
    const mFile = path.join(ctx.dir, EXPORT_FILES.manifest);
    let files = [mFile];
    if (input.kind === 'manifest-json') fs.writeFileSync(mFile, jsonBytes(input.value));
    else if (input.kind === 'manifest-bytes') fs.writeFileSync(mFile, input.bytes);
    else {
      const whole = input.which === 'image' ? ctx.image : ctx.text;
      const bytes = Buffer.concat([input.head, whole.subarray(HEAD)]);
      const file = path.join(ctx.dir, EXPORT_FILES[input.which]);
      fs.writeFileSync(file, bytes);
      const m = structuredClone(ctx.manifest) as { files: Record<string, { bytes: number; sha256: string }> };
      m.files[input.which] = { ...m.files[input.which]!, bytes: bytes.length, sha256: sha256(bytes) };
      fs.writeFileSync(mFile, JSON.stringify(m));
      files = [file, mFile];
    }
    await expectClean(files, () => readOnnxExport(ctx.dir));
    await expectClean(files, async () => {
      const det = await createDetector({ engine: 'onnx', weights: ctx.dir, threads: 1 });
      try { await det.detect(pixels, ['a white six', 'coat']); } finally { det.dispose(); }
    });
  },
};
