// Feeding a ConceptCounter from dataset files, by extension:
//   .json (COCO: categories, once per image they appear in), .jsonl (pairs {"caption"}, ODVG grounding
//   captions, ODVG detection categories), .tsv (path<TAB>caption), .txt (one caption per line), .tar (wds).
import fs from 'node:fs';
import type { ConceptCounter } from './conceptDictionary.ts';
import { DataFileError, isRecord, readJsonFile, readJsonl, readLines } from './fileHelpers.ts';
import type { IssueHandler } from './types.ts';
import { readShard } from './wdsReader.ts';

export interface CountResult { file: string; captions: number; categories: number }

export async function countConceptsFrom(file: string, counter: ConceptCounter, onIssue: IssueHandler): Promise<CountResult> {
  if (!fs.existsSync(file)) throw new DataFileError(file, 'no such file');
  const r: CountResult = { file, captions: 0, categories: 0 };
  const caption = (c: string): void => { counter.addCaption(c); r.captions++; };
  if (/\.json$/i.test(file)) {
    const j = readJsonFile(file);
    if (!isRecord(j) || !Array.isArray(j.categories) || !Array.isArray(j.annotations))
      throw new DataFileError(file, "expected a COCO file ('categories' and 'annotations')");
    const names = new Map<unknown, string>();
    for (const c of j.categories) if (isRecord(c) && typeof c.name === 'string') names.set(c.id, c.name);
    const seen = new Set<string>();
    for (const [i, a] of (j.annotations as unknown[]).entries()) {
      const name = isRecord(a) ? names.get(a.category_id) : undefined;
      if (!isRecord(a) || name === undefined) { onIssue({ file, record: `annotation #${i}`, message: 'unknown category id' }); continue; }
      const key = `${String(a.image_id)}\u0000${name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      counter.addCategory(name);
      r.categories++;
    }
  } else if (/\.jsonl$/i.test(file)) {
    for await (const { line, value } of readJsonl(file, onIssue)) {
      const rec = `line ${line}`;
      if (isRecord(value) && typeof value.caption === 'string' && value.caption.trim()) caption(value.caption);
      else if (isRecord(value) && isRecord(value.grounding) && typeof value.grounding.caption === 'string' && value.grounding.caption.trim()) caption(value.grounding.caption);
      else if (isRecord(value) && isRecord(value.detection) && Array.isArray(value.detection.instances)) {
        for (const name of new Set(value.detection.instances.map((x) => (isRecord(x) && typeof x.category === 'string' ? x.category : '')).filter(Boolean)))
          { counter.addCategory(name); r.categories++; }
      } else onIssue({ file, record: rec, message: 'no caption (expected {"caption"}, {"grounding": {"caption"}} or {"detection"})' });
    }
  } else if (/\.tar$/i.test(file)) {
    for await (const s of readShard(file, onIssue)) caption(s.caption!);
  } else {
    const tsv = /\.tsv$/i.test(file);
    for await (const { line, text } of readLines(file)) {
      const c = tsv ? text.slice(text.indexOf('\t') + 1) : text;
      if (tsv && text.indexOf('\t') <= 0) { onIssue({ file, record: `line ${line}`, message: 'expected "path<TAB>caption"' }); continue; }
      if (c.trim() === '') { onIssue({ file, record: `line ${line}`, message: 'empty caption' }); continue; }
      caption(c);
    }
  }
  return r;
}
