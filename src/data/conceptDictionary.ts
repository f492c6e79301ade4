// The concept dictionary (DetCLIP): noun phrases of captions and category names, counted, with a frequency
// floor. Grounding samples draw their negative concepts from it.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseStrict } from '../config/strict.ts';
import { DataFileError, readJsonFile } from './fileHelpers.ts';
import { nounPhraseTexts } from './nounPhrases.ts';
import { displayName } from './wordnetEnrich.ts';

export interface ConceptEntry { text: string; count: number }

export const conceptDictionarySchema = z.strictObject({
  version: z.literal(1),
  minCount: z.number().int().min(1),
  concepts: z.array(z.strictObject({ text: z.string().min(1), count: z.number().int().min(1) })),
  // OVD-MNIST also lists its categories; other producers may leave this out.
  categories: z.array(z.strictObject({ name: z.string(), split: z.enum(['base', 'novel']).optional(), synset: z.string().optional(), text: z.string() })).optional(),
});
export type ConceptDictionaryFile = z.infer<typeof conceptDictionarySchema>;

/** Counts concepts; `addCaption` counts each distinct noun phrase once per caption. */
export class ConceptCounter {
  readonly counts = new Map<string, number>();

  add(text: string, n = 1): void {
    const t = text.trim().toLowerCase();
    if (t !== '') this.counts.set(t, (this.counts.get(t) ?? 0) + n);
  }

  addCaption(caption: string): void {
    for (const p of nounPhraseTexts(caption)) this.add(p);
  }

  addCategory(name: string): void {
    this.add(displayName(name));
  }

  /** Entries with count >= minCount, most frequent first (ties alphabetical, so output is stable). */
  entries(minCount = 1): ConceptEntry[] {
    return [...this.counts]
      .filter(([, c]) => c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([text, count]) => ({ text, count }));
  }
}

/** Writes JSON atomically: a temp file in the same folder, then rename (never a partial output file). */
export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

export function saveConceptDictionary(file: string, entries: ConceptEntry[], minCount: number,
    categories?: ConceptDictionaryFile['categories']): void {
  const out: ConceptDictionaryFile = { version: 1, minCount, concepts: entries, ...(categories ? { categories } : {}) };
  writeJsonAtomic(file, out);
}

/** Loads a concepts.json; throws DataFileError with the file name on a bad file. */
export function loadConceptDictionary(file: string): ConceptDictionaryFile {
  const json = readJsonFile(file);
  try {
    return parseStrict(conceptDictionarySchema, json, file);
  } catch (err) {
    throw new DataFileError(file, (err as Error).message.replace(`${file}: `, ''));
  }
}

/** The concept texts of a dictionary file (what grounding negatives are drawn from). */
export const dictionaryTexts = (d: ConceptDictionaryFile): string[] => d.concepts.map((c) => c.text);
