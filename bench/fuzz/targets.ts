// Every fuzz target, in the order `npm run fuzz` runs them and the test suite slices them.
import type { AnyTarget } from './harness.ts';
import { cocoTarget, lvisTarget, odvgTarget, pairsTarget, wdsTarget } from './dataTargets.ts';
import { evalJsonTarget, modelConfigTarget, overridesTarget, safetensorsTarget, vocabTarget } from './fileTargets.ts';
import { imageTarget } from './imageTarget.ts';
import { configsTarget } from './configTargets.ts';
import { serveTarget } from './serveTarget.ts';
import { onnxTarget } from './onnxTarget.ts';

export const TARGETS: AnyTarget[] = [
  cocoTarget, lvisTarget, odvgTarget, pairsTarget, wdsTarget,
  safetensorsTarget, modelConfigTarget, configsTarget, vocabTarget, overridesTarget, evalJsonTarget, imageTarget, serveTarget, onnxTarget,
];

export function targetNamed(name: string): AnyTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
