import { test } from 'node:test';
import { tempDir } from './tempDir.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { renderVisualization, saveVisualization } from '../../src/infer/visualize.ts';
import { colorFor, luminance, textColorOn, PALETTE } from '../../src/infer/drawStyle.ts';

test('label text colour: the better WCAG contrast of black and white (hand-checked colours)', () => {
  assert.equal(+luminance('#ffffff').toFixed(6), 1);
  assert.equal(luminance('#000000'), 0);
  // #4e79a7: L = 0.2126 * 0.0762 + 0.7152 * 0.1912 + 0.0722 * 0.3864 = 0.1808; black 4.61 : 1 beats white 4.55 : 1
  assert.equal(+luminance('#4e79a7').toFixed(4), 0.1808);
  assert.equal(textColorOn('#4e79a7'), '#000000');
  assert.equal(textColorOn('#1f2937'), '#ffffff'); // dark slate
  assert.equal(textColorOn('#edc948'), '#000000'); // yellow
  for (const c of PALETTE) {
    const l = luminance(c);
    const ratio = textColorOn(c) === '#000000' ? (l + 0.05) / 0.05 : 1.05 / (l + 0.05);
    assert.ok(ratio >= 4.5, `${c}: contrast ${ratio.toFixed(2)} >= 4.5 (WCAG AA)`);
  }
  assert.equal(colorFor(12), PALETTE[2]);
});

test('visualisation: small images are upscaled; boxes are drawn in their colour at the scaled position', async () => {
  const raw = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64 }; // black
  const dets = [{ label: 'dog', labelIndex: 0, score: 0.87, box: { xmin: 8, ymin: 16, xmax: 40, ymax: 60 } }];
  const png = await renderVisualization(raw, dets);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [384, 384]); // 6x
  const px = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
  assert.deepEqual(px(48, 250), [0x4e, 0x79, 0xa7], 'left edge of the box at x = 8 * 6');
  assert.deepEqual(px(200, 250), [0, 0, 0], 'inside the box stays the image');
  assert.deepEqual(px(5, 5), [0, 0, 0], 'outside stays the image');
  const out = path.join(tempDir('detclip-vis-'), 'a.png');
  await saveVisualization(raw, dets, out);
  assert.deepEqual(fs.readFileSync(out), png);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['a.png'], 'no temp files left');
});
