import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeRgb, IMAGENET_NORM, loadImage, normalizeRgb, type ImageJob } from '../../src/data/imageOps.ts';
import { ImageLoaderPool } from '../../src/data/workerPool.ts';
import { planAugment } from '../../src/data/transforms.ts';
import { assertClose } from '../helpers/tf.ts';
import { tmpDir, writeGradientPng } from './tmp.ts';

const unit = { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] };

test('normalizeRgb: ImageNet mean/std on 0..1 RGB', () => {
  const out = normalizeRgb(new Uint8Array([0, 255, 51]));
  assertClose(out, [-0.485 / 0.229, (1 - 0.456) / 0.224, (0.2 - 0.406) / 0.225], { atol: 1e-5, what: 'normalised' });
  assert.equal(IMAGENET_NORM.std[2], 0.225);
});

test('loadImage: identity resize keeps pixels; flip mirrors pixels and boxes together', async () => {
  const file = path.join(tmpDir(), 'g.png');
  await writeGradientPng(file, 8, 6); // pixel (x, y) = [x, y, 100]
  const job: ImageJob = { image: file, boxes: [[1, 2, 3, 5]], resize: { mode: 'shortSide', short: 6, max: 8 }, draw: { scale: 1, flip: false, cropU: 0, cropV: 0 }, norm: unit, minBoxSize: 1 };
  const plain = await loadImage(job);
  assert.deepEqual([plain.width, plain.height, plain.srcW, plain.srcH], [8, 6, 8, 6]);
  const px = (im: typeof plain, x: number, y: number) => Array.from(im.pixels.subarray((y * im.width + x) * 3, (y * im.width + x) * 3 + 3)).map((v) => Math.round(v * 255));
  assert.deepEqual(px(plain, 5, 4), [5, 4, 100]);
  assert.deepEqual(Array.from(plain.boxes), [1, 2, 3, 5]);
  const flipped = await loadImage({ ...job, draw: { ...job.draw, flip: true } });
  assert.deepEqual(px(flipped, 5, 4), [2, 4, 100]); // x -> 7 - x
  assert.deepEqual(Array.from(flipped.boxes), [5, 2, 7, 5]);
  // Upscaling a constant-colour image stays constant (checks the resize path, not its kernel).
  const flat = path.join(tmpDir(), 'flat.png');
  await sharp({ create: { width: 5, height: 3, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toFile(flat);
  const up = await loadImage({ ...job, image: flat, boxes: [], resize: { mode: 'square', size: 16 } });
  assert.deepEqual([up.width, up.height], [16, 16]);
  assert.deepEqual(px(up, 0, 0), [10, 20, 30]);
  assert.deepEqual(px(up, 15, 15), [10, 20, 30]);
});

test('loadImage/decodeRgb: truncated and non-image files are rejected; in-memory bytes work', async () => {
  const dir = tmpDir();
  const rgb = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) % 251;
  const png = await sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  fs.writeFileSync(path.join(dir, 'cut.png'), png.subarray(0, png.length >> 1));
  fs.writeFileSync(path.join(dir, 'text.png'), 'hello');
  await assert.rejects(decodeRgb(path.join(dir, 'cut.png')));
  await assert.rejects(decodeRgb(path.join(dir, 'text.png')));
  const job: ImageJob = { image: path.join(dir, 'cut.png'), boxes: [], resize: { mode: 'square', size: 32 }, draw: { scale: 1, flip: false, cropU: 0, cropV: 0 }, norm: unit, minBoxSize: 1 };
  await assert.rejects(loadImage(job));
  const ok = await decodeRgb(new Uint8Array(png));
  assert.deepEqual([ok.width, ok.height, ok.data[3]], [64, 64, rgb[3]]);
});

test('worker pool: same results as in-process loading; failures reject per job', async () => {
  const dir = tmpDir();
  await writeGradientPng(path.join(dir, 'a.png'), 40, 30, 1);
  await writeGradientPng(path.join(dir, 'b.png'), 20, 50, 2);
  const jobs: ImageJob[] = ['a.png', 'b.png'].map((f, i) => ({
    image: path.join(dir, f), boxes: [[2, 3, 15, 20]], resize: { mode: 'shortSide', short: 24, max: 40 },
    draw: { scale: 1.1, flip: i === 0, cropU: 0.3, cropV: 0.6 }, norm: IMAGENET_NORM, minBoxSize: 1,
  }));
  const pool = new ImageLoaderPool(2);
  try {
    const [inWorkers, inProcess] = await Promise.all([Promise.all(jobs.map((j) => pool.load(j))), Promise.all(jobs.map(loadImage))]);
    for (let i = 0; i < jobs.length; i++) {
      assert.deepEqual([inWorkers[i]!.width, inWorkers[i]!.height], [inProcess[i]!.width, inProcess[i]!.height]);
      assert.deepEqual(Array.from(inWorkers[i]!.pixels), Array.from(inProcess[i]!.pixels));
      assert.deepEqual(Array.from(inWorkers[i]!.boxes), Array.from(inProcess[i]!.boxes));
    }
    await assert.rejects(pool.load({ ...jobs[0]!, image: path.join(dir, 'missing.png') }), /missing\.png|no such file|Input file is missing/i);
  } finally {
    await pool.close();
  }
});

test('loadImage: pixels and boxes stay aligned under crop + flip + resize', async () => {
  // A white rectangle [4, 10, 14, 30) on black; after augmentation its box must still frame the white pixels.
  const W = 40, H = 40;
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 10; y < 30; y++) for (let x = 4; x < 14; x++) rgb.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
  const file = path.join(tmpDir(), 'rect.png');
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  const draws = [
    { scale: 1.5, flip: true, cropU: 0, cropV: 0.3 },
    { scale: 1.5, flip: false, cropU: 0, cropV: 0.3 },
    { scale: 1.3, flip: true, cropU: 0.1, cropV: 0.9 },
    { scale: 0.7, flip: true, cropU: 0.5, cropV: 0.5 },
  ];
  for (const draw of draws) {
    const im = await loadImage({ image: file, boxes: [[4, 10, 14, 30]], resize: { mode: 'square', size: 40 }, draw, norm: unit, minBoxSize: 1 });
    assert.equal(im.boxes.length, 4, JSON.stringify(draw));
    const [x1, y1, x2, y2] = Array.from(im.boxes);
    const v = (x: number, y: number) => im.pixels[(Math.round(y) * im.width + Math.round(x)) * 3]!;
    const what = `${JSON.stringify(draw)} box ${[x1, y1, x2, y2]}`;
    assert.ok(v((x1! + x2!) / 2, (y1! + y2!) / 2) > 0.9, `centre is white: ${what}`);
    if (x1! >= 3) assert.ok(v(x1! - 3, (y1! + y2!) / 2) < 0.1, `left of the box is black: ${what}`);
    if (x2! <= im.width - 3) assert.ok(v(x2! + 2, (y1! + y2!) / 2) < 0.1, `right of the box is black: ${what}`);
    if (y2! <= im.height - 3) assert.ok(v((x1! + x2!) / 2, y2! + 2) < 0.1, `below the box is black: ${what}`);
    // Pixel-exact against resize-then-crop-then-flip done step by step here.
    const plan = planAugment(W, H, { mode: 'square', size: 40 }, draw);
    const resized = await sharp(file).resize(plan.resizeW, plan.resizeH, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const ref = new Float32Array(plan.outW * plan.outH * 3);
    for (let y = 0; y < plan.outH; y++)
      for (let x = 0; x < plan.outW; x++)
        for (let c = 0; c < 3; c++) {
          const sx = plan.cropX + (draw.flip ? plan.outW - 1 - x : x);
          ref[(y * plan.outW + x) * 3 + c] = resized[((plan.cropY + y) * plan.resizeW + sx) * 3 + c]! / 255;
        }
    assertClose(im.pixels, ref, { atol: 1e-6, rtol: 0, what: `pixels ${JSON.stringify(draw)}` });
  }
});
