import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { setupBackend, assertClose, tf } from '../../helpers/tf.ts';
import { registerEmbedText } from '../../../src/cli/commands/embedText.ts';
import { UserError } from '../../../src/errors.ts';
import { fixture, HF_FILE, OPENCLIP_FILE, rows, TOL } from './golden.ts';

let dir = '';
before(async () => {
  await setupBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-embed-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `embed-text` in-process; returns what it wrote to stdout. */
async function run(args: string[]): Promise<string> {
  const program = new Command('detclip').option('--backend <name>').exitOverride();
  registerEmbedText(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { out += chunk; return true; }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['embed-text', ...args], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('embed-text prints tokens and projected embeddings matching open_clip (both namings)', async () => {
  const fx = fixture();
  const cfgFile = path.join(dir, 'config.json');
  fs.writeFileSync(cfgFile, JSON.stringify(fx.hf_config_equivalent));
  const before = tf.memory().numTensors;
  for (const args of [['--weights', OPENCLIP_FILE, '--heads', '4'], ['--weights', HF_FILE, '--config', cfgFile]]) {
    const out = await run([...args, '--text', 'a photo of a cat', '--text', 'ankle boot']);
    assert.ok(out.endsWith('\n'));
    const json = JSON.parse(out) as { tokens: number[][]; embeddings: number[][] };
    assert.deepEqual(Object.keys(json), ['tokens', 'embeddings']);
    assert.deepEqual(json.tokens, [fx.tokenizer.cases[0]!, fx.tokenizer.cases[4]!].map((c) => (c as unknown as { ids: number[] }).ids));
    assertClose(json.embeddings.flat(), [...rows(fx.text_features, 0, 1), ...rows(fx.text_features, 4, 5)], { ...TOL, what: args[1]! });
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test('embed-text: bad input is one UserError line', async () => {
  const cases: [string[], RegExp][] = [
    [['--weights', OPENCLIP_FILE, '--heads', '4'], /give at least one --text/],
    [['--weights', OPENCLIP_FILE, '--text', 'x'], /cannot infer the number of attention heads/],
    [['--weights', OPENCLIP_FILE, '--heads', 'four', '--text', 'x'], /--heads must be a positive integer/],
    [['--weights', OPENCLIP_FILE, '--heads', '4', '--activation', 'relu', '--text', 'x'], /--activation must be quickgelu or gelu/],
    [['--weights', path.join(dir, 'missing.safetensors'), '--text', 'x'], /missing\.safetensors: cannot open/],
    [['--weights', HF_FILE, '--config', path.join(dir, 'nope.json'), '--text', 'x'], /nope\.json: cannot read config/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(run(args), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'), args.join(' '));
  }
});

test('detclip embed-text end to end: JSON on stdout; a bad weights file exits 1 with one line', () => {
  const ok = spawnSync(process.execPath, ['bin/detclip.js', 'embed-text', '--weights', OPENCLIP_FILE, '--heads', '4', '--text', 'teddy bear'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assertClose(JSON.parse(ok.stdout).embeddings[0], rows(fixture().text_features, 2, 3), { ...TOL, what: 'cli' });
  const junk = path.join(dir, 'junk.safetensors');
  fs.writeFileSync(junk, 'garbage');
  const bad = spawnSync(process.execPath, ['bin/detclip.js', 'embed-text', '--weights', junk, '--text', 'x'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^detclip: error: .*junk\.safetensors: .*\n$/);
});
