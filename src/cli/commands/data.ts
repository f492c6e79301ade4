// `detclip data`: synth (OVD-MNIST), check (validate a dataset), concepts (build a concept dictionary).
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../userError.ts';
import type { CheckFormat } from '../../data/check.ts';
import { DataFileError } from '../../data/fileHelpers.ts';
import { formatIssue, type DataIssue } from '../../data/types.ts';
// The heavy modules (sharp, wink-nlp, WordNet) load inside the actions, so `detclip --help` stays fast.

const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

/** Runs fn, turning whole-file problems into one-line user errors. */
async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DataFileError) throw new UserError(err.message);
    throw err;
  }
}

const MAX_PRINTED = 50;

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets: generate OVD-MNIST, validate files, build concept dictionaries');

  data.command('synth')
    .description('generate the OVD-MNIST benchmark (PNG images, detection.json, grounding.jsonl, pairs.jsonl, val.json, concepts.json)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'random seed', int(0), 0)
    .option('--train <n>', 'training images (split evenly: detection, grounding, pairs)', int(3), 9000)
    .option('--val <n>', 'validation images (all 20 categories annotated)', int(1), 1000)
    .option('--size <px>', 'image side', int(64), 128)
    .addOption(new Option('--pool-limit <n>', 'read only the first n glyphs per category (tests)').argParser(int(2)).hideHelp())
    .action(async (o: { out: string; seed: number; train: number; val: number; size: number; poolLimit?: number }) => {
      const { generateOvdMnist } = await import('../../data/synth/ovdMnist.ts');
      const tty = process.stderr.isTTY;
      const s = await generateOvdMnist({
        out: o.out, seed: o.seed, train: o.train, val: o.val, size: o.size, poolLimit: o.poolLimit,
        onProgress: tty ? (d, t) => { if (d % 250 === 0 || d === t) process.stderr.write(`\rrendered ${d}/${t}`); } : undefined,
      });
      if (tty) process.stderr.write('\n');
      process.stdout.write(`OVD-MNIST in ${path.resolve(s.out)}: ${s.detectionImages} detection (${s.detectionBoxes} boxes), ` +
        `${s.groundingImages} grounding, ${s.pairImages} pair images; ${s.val} val images (${s.valBoxes} boxes); ` +
        `${s.size}px, seed ${s.seed}, ${s.seconds.toFixed(1)} s\n`);
    });

  data.command('check')
    .description('validate a dataset: records, boxes, categories, captions, spans and every image; exits 1 on errors')
    .requiredOption('--format <format>', 'coco | odvg | pairs | wds', (v: string) => {
      if (!['coco', 'odvg', 'pairs', 'wds'].includes(v)) throw new InvalidArgumentError('expected coco, odvg, pairs or wds');
      return v;
    })
    .argument('<file...>', 'annotation file (wds: one or more shards, brace patterns allowed)')
    .option('--images <dir>', "image folder (default: the annotation file's folder)")
    .option('--label-map <file>', 'ODVG detection label map ({"0": "name", ...})')
    .option('--no-decode', 'read image headers only (faster; misses truncated images)')
    .action(async (files: string[], o: { format: CheckFormat; images?: string; labelMap?: string; decode: boolean }) => {
      if (o.format !== 'wds' && files.length > 1) throw new UserError(`format '${o.format}' takes one file, got ${files.length}`);
      const { checkDataset, summarizeCheck } = await import('../../data/check.ts');
      const r = await userErrors(() => checkDataset({ format: o.format, file: o.format === 'wds' ? files : files[0]!, images: o.images, labelMap: o.labelMap, decode: o.decode }));
      for (const i of r.issues.slice(0, MAX_PRINTED)) process.stderr.write(`${formatIssue(i)}\n`);
      if (r.issues.length > MAX_PRINTED) process.stderr.write(`... and ${r.issues.length - MAX_PRINTED} more\n`);
      process.stdout.write(`${summarizeCheck(r)}\n`);
      if (r.issues.length > 0) process.exitCode = 1;
    });

  data.command('concepts')
    .description('build a concept dictionary: noun phrases of captions and category names, counted, with a frequency floor')
    .requiredOption('--captions <file...>', 'caption sources: .jsonl (pairs / ODVG), .tsv, .txt (one per line), .tar (wds), .json (COCO categories)')
    .requiredOption('--out <file>', 'output concepts.json')
    .option('--min-count <n>', 'keep concepts seen at least this often', int(1), 1)
    .action(async (o: { captions: string[]; out: string; minCount: number }) => {
      const { ConceptCounter, saveConceptDictionary } = await import('../../data/conceptDictionary.ts');
      const { countConceptsFrom } = await import('../../data/conceptSources.ts');
      const counter = new ConceptCounter();
      const skipped: DataIssue[] = [];
      let captions = 0;
      let categories = 0;
      for (const f of o.captions) {
        const r = await userErrors(() => countConceptsFrom(f, counter, (i) => skipped.push(i)));
        captions += r.captions;
        categories += r.categories;
      }
      for (const i of skipped.slice(0, 10)) process.stderr.write(`detclip: warning: skipped ${formatIssue(i)}\n`);
      if (skipped.length > 10) process.stderr.write(`detclip: warning: ${skipped.length} records skipped in all\n`);
      const entries = counter.entries(o.minCount);
      saveConceptDictionary(o.out, entries, o.minCount);
      process.stdout.write(`${o.out}: ${entries.length} concepts (of ${counter.counts.size} distinct, min count ${o.minCount}) ` +
        `from ${captions} captions and ${categories} category occurrences\n`);
    });
}
