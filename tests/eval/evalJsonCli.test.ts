// The `detclip eval-json` command end to end: files in, one JSON object out, exit code 1 on bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadFixtureJson } from '../helpers/golden.ts';
import { runEvalJson } from '../../src/cli/commands/evalJson.ts';
import { UserError } from '../../src/errors.ts';

interface GoldenCase { gt: unknown; dt: unknown[]; expected: Record<string, number> }
let dir = '';
const file = (name: string): string => path.join(dir, name);
const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/detclip.js', 'eval-json', ...args], { encoding: 'utf8' });

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-eval-json-'));
  for (const name of ['coco-103', 'lvis-fixed-105']) {
    const c = loadFixtureJson<GoldenCase>(`eval/${name}.json`);
    fs.writeFileSync(file(`${name}-gt.json`), JSON.stringify(c.gt));
    fs.writeFileSync(file(`${name}-dt.json`), JSON.stringify(c.dt));
  }
  const c = loadFixtureJson<GoldenCase>('eval/coco-103.json');
  fs.writeFileSync(file('unknown-cat.json'), JSON.stringify([...c.dt.slice(0, 3), { image_id: 1, category_id: 999, bbox: [0, 0, 1, 1], score: 0.5 }]));
  fs.writeFileSync(file('truncated.json'), JSON.stringify(c.dt).slice(0, 500));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// Two runs of the real binary (each start loads the whole CLI); the other cases call the command's function.
test('lvis-fixed through the binary, with --top-per-category and --per-category', () => {
  const r = cli('--gt', file('lvis-fixed-105-gt.json'), '--dt', file('lvis-fixed-105-dt.json'), '--protocol', 'lvis-fixed',
    '--top-per-category', '5', '--per-category');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const { per_category: perCategory, ...stats } = out;
  assert.deepEqual(stats, loadFixtureJson<GoldenCase>('eval/lvis-fixed-105.json').expected);
  assert.equal(Object.keys(perCategory as object).length, 11);
});

test('bad input through the binary: one error line naming the file and record, exit code 1, nothing on stdout', () => {
  const r = cli('--gt', file('coco-103-gt.json'), '--dt', file('unknown-cat.json'), '--protocol', 'coco');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown-cat\.json: \[3\]: category_id 999 is not a category of the ground truth/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('coco: the reference statistics', () => {
  const out = runEvalJson({ gt: file('coco-103-gt.json'), dt: file('coco-103-dt.json'), protocol: 'coco' });
  assert.deepEqual(out, loadFixtureJson<GoldenCase>('eval/coco-103.json').expected);
});

test('unreadable or malformed files are user errors naming the file', () => {
  const gt = file('coco-103-gt.json');
  const isUserError = (re: RegExp) => (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => runEvalJson({ gt, dt: file('truncated.json'), protocol: 'coco' }), isUserError(/truncated\.json: not valid JSON/));
  assert.throws(() => runEvalJson({ gt, dt: file('missing.json'), protocol: 'coco' }), isUserError(/missing\.json: cannot read/));
  assert.throws(() => runEvalJson({ gt: file('coco-103-dt.json'), dt: file('coco-103-dt.json'), protocol: 'coco' }),
    isUserError(/coco-103-dt\.json: must be a JSON object with images, annotations and categories/));
});

test('flags that do not fit the protocol are refused', () => {
  const base = { gt: file('coco-103-gt.json'), dt: file('coco-103-dt.json') };
  assert.throws(() => runEvalJson({ ...base, protocol: 'coco', topPerCategory: '10' }), /--top-per-category applies only to --protocol lvis-fixed/);
  assert.throws(() => runEvalJson({ ...base, protocol: 'lvis-fixed', maxDets: '300' }), /--max-dets does not apply to lvis-fixed/);
  assert.throws(() => runEvalJson({ ...base, protocol: 'coco', maxDets: 'ten' }), /--max-dets must be an integer/);
  assert.throws(() => runEvalJson({ ...base, protocol: 'coco', maxDets: '5' }), /--max-dets must be > 10 for coco/);
  const r = runEvalJson({ ...base, protocol: 'coco', maxDets: '300' });
  assert.deepEqual(Object.keys(r).slice(6, 9), ['AR1', 'AR10', 'AR300']);
});
