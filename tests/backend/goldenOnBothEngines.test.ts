// The suite runs on the default engine (torch when the native module is built). The reference-output tests
// (torchvision ops, open_clip, ResNet/Swin, pycocotools) must also pass on wasm, the fallback and browser
// engine: when torch is the default, this runs them again in a child process with DETCLIP_BACKEND=wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { registerTorchBackend, torchBackendUnavailableReason } from '../../src/backend/torch/index.ts';

const GOLDEN = [
  'tests/loss/sigmoidFocal.test.ts', 'tests/loss/giouLoss.test.ts', 'tests/loss/criterion.test.ts',
  'tests/ops/boxes.test.ts', 'tests/ops/deformConv2d.test.ts', 'tests/ops/nms.test.ts',
  'tests/model/backbone/resnet.test.ts', 'tests/model/backbone/swin.test.ts',
  'tests/model/text/textEncoder.test.ts', 'tests/model/text/textEncoder.grad.test.ts', 'tests/eval/golden.test.ts',
];
const torchIsDefault = !process.env.DETCLIP_BACKEND && registerTorchBackend();

test('golden tests pass on wasm too', {
  skip: torchIsDefault ? false : `the main run is already on wasm (${process.env.DETCLIP_BACKEND ?? torchBackendUnavailableReason()})`,
  timeout: 300_000,
}, () => {
  const env: NodeJS.ProcessEnv = { ...process.env, DETCLIP_BACKEND: 'wasm' };
  delete env.NODE_TEST_CONTEXT; // else the child speaks the runner's internal protocol instead of TAP
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--import', 'tsx', ...GOLDEN], { env, encoding: 'utf8' });
  const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
  const failures = r.stdout.split('\n').filter((l) => /^\s*not ok/.test(l));
  assert.equal(r.status, 0, `golden tests on wasm failed:\n${failures.join('\n')}\n${r.stderr.slice(-2000)}`);
  assert.ok(pass >= GOLDEN.length, `only ${pass} golden tests ran on wasm`);
});
