// `detclip eval-json`: scores a results file against a ground-truth file with the COCO, LVIS or LVIS fixed-AP
// protocol and prints one JSON object of summary statistics (plus per_category with --per-category).
import { Command, Option } from 'commander';
import { UserError } from '../userError.ts';
import { evaluateCocoPrepared } from '../../eval/cocoEval.ts';
import { evaluateLvisFixedPrepared } from '../../eval/fixedAp.ts';
import { loadDetectionsFile, loadGroundTruthFile } from '../../eval/loadJson.ts';
import { evaluateLvisPrepared } from '../../eval/lvisEval.ts';
import { FIXED_AP_TOP_PER_CATEGORY, LVIS_MAX_DETS } from '../../eval/params.ts';
import type { EvalResult } from '../../eval/types.ts';

interface EvalJsonOptions {
  gt: string;
  dt: string;
  protocol: 'coco' | 'lvis' | 'lvis-fixed';
  maxDets?: string;
  topPerCategory?: string;
  perCategory?: boolean;
}

function parseInteger(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UserError(`${flag} must be an integer, got '${value}'`);
  return Number(value);
}

/** Runs one evaluation as the command would; returns the object it prints. */
export function runEvalJson(o: EvalJsonOptions): Record<string, unknown> {
  const maxDets = o.maxDets === undefined ? undefined : parseInteger('--max-dets', o.maxDets);
  const top = o.topPerCategory === undefined ? undefined : parseInteger('--top-per-category', o.topPerCategory);
  if (top !== undefined && o.protocol !== 'lvis-fixed') throw new UserError('--top-per-category applies only to --protocol lvis-fixed');
  if (maxDets !== undefined && o.protocol === 'lvis-fixed') throw new UserError('--max-dets does not apply to lvis-fixed (fixed AP has no per-image cap; use --top-per-category)');
  if (maxDets !== undefined && o.protocol === 'coco' && maxDets <= 10) throw new UserError(`--max-dets must be > 10 for coco (maxDets become [1, 10, N]), got ${maxDets}`);
  if (maxDets !== undefined && o.protocol === 'lvis' && maxDets < 1 && maxDets !== -1) throw new UserError(`--max-dets must be >= 1, or -1 for no cap, got ${maxDets}`);
  if (top !== undefined && top < 1) throw new UserError(`--top-per-category must be >= 1, got ${top}`);

  const gt = loadGroundTruthFile(o.gt, o.protocol === 'coco' ? 'coco' : 'lvis');
  const dt = loadDetectionsFile(o.dt, gt);
  const perCategory = o.perCategory === true;
  let r: EvalResult;
  if (o.protocol === 'coco') r = evaluateCocoPrepared(gt, dt, { maxDets: maxDets === undefined ? undefined : [1, 10, maxDets], perCategory });
  else if (o.protocol === 'lvis') r = evaluateLvisPrepared(gt, dt, { maxDets: maxDets ?? LVIS_MAX_DETS, perCategory });
  else r = evaluateLvisFixedPrepared(gt, dt, { topPerCategory: top ?? FIXED_AP_TOP_PER_CATEGORY, perCategory });
  return r.perCategory ? { ...r.stats, per_category: r.perCategory } : { ...r.stats };
}

export function registerEvalJson(program: Command): void {
  program
    .command('eval-json')
    .description('Score a COCO-format results file (COCO AP, LVIS AP or LVIS fixed AP) and print the metrics as JSON')
    .requiredOption('--gt <file>', 'ground truth JSON (COCO or LVIS format)')
    .requiredOption('--dt <file>', 'results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}]')
    .addOption(new Option('--protocol <name>', 'evaluation protocol').choices(['coco', 'lvis', 'lvis-fixed']).makeOptionMandatory())
    .option('--max-dets <n>', `coco: largest maxDets (default 100); lvis: detections per image (default ${LVIS_MAX_DETS}, -1 = all)`)
    .option('--top-per-category <k>', `lvis-fixed: detections kept per category (default ${FIXED_AP_TOP_PER_CATEGORY})`)
    .option('--per-category', 'add per_category: {name: AP}')
    .action((opts: EvalJsonOptions) => {
      const out = runEvalJson(opts);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
