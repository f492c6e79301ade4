// Image-text pairs from JSONL ({"image": path, "caption": text}) or TSV (path<TAB>caption).
// Samples carry the caption only; its concepts (caption + noun phrases) are added by concepts assembly.
import { isRecord, readJsonl, readLines, resolveImagePath } from './fileHelpers.ts';
import type { IssueHandler, Sample, SampleSource } from './types.ts';

export interface PairsReaderOptions {
  format?: 'jsonl' | 'tsv';   // default: by extension (.tsv/.txt -> tsv, else jsonl)
  images?: string;
}

export const pairsFormatOf = (file: string): 'jsonl' | 'tsv' => (/\.(tsv|txt)$/i.test(file) ? 'tsv' : 'jsonl');

function pairSample(file: string, record: string, image: string, caption: string, images?: string): Sample {
  return {
    kind: 'imageText', source: file, record, image: resolveImagePath(image, file, images),
    boxes: [], boxConcepts: [], concepts: [], numPositive: 0, caption: caption.trim(),
  };
}

export function openPairs(file: string, opts: PairsReaderOptions = {}): SampleSource {
  const format = opts.format ?? pairsFormatOf(file);

  async function* fromJsonl(onIssue: IssueHandler): AsyncGenerator<Sample> {
    for await (const { line, value } of readJsonl(file, onIssue)) {
      const record = `line ${line}`;
      if (!isRecord(value)) { onIssue({ file, record, message: 'not a JSON object' }); continue; }
      if (typeof value.image !== 'string' || value.image === '') { onIssue({ file, record, message: "needs an 'image' path" }); continue; }
      if (typeof value.caption !== 'string' || value.caption.trim() === '') { onIssue({ file, record, message: 'empty caption' }); continue; }
      yield pairSample(file, record, value.image, value.caption, opts.images);
    }
  }

  async function* fromTsv(onIssue: IssueHandler): AsyncGenerator<Sample> {
    for await (const { line, text } of readLines(file)) {
      const record = `line ${line}`;
      const tab = text.indexOf('\t');
      if (tab <= 0) { onIssue({ file, record, message: 'expected "path<TAB>caption"' }); continue; }
      const caption = text.slice(tab + 1);
      if (caption.trim() === '') { onIssue({ file, record, message: 'empty caption' }); continue; }
      yield pairSample(file, record, text.slice(0, tab).trim(), caption, opts.images);
    }
  }

  return { kind: 'imageText', file, samples: format === 'tsv' ? fromTsv : fromJsonl };
}
