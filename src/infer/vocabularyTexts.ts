// Vocabulary entries (words/phrases or categories) -> the names detections report and the texts the text encoder
// reads ("name, definition" from WordNet when enrichment is on, as at training). Shared by both Node engines.
import { enrichCategory, type CategoryLike } from '../data/wordnetEnrich.ts';
import { checkVocabulary } from './detectorCore.ts';

export type VocabularyEntry = string | CategoryLike;

/** The names of entries (what detections report), in order. */
export const entryNames = (entries: VocabularyEntry[]): string[] => entries.map((e) => (typeof e === 'string' ? e : e.name));

/** Checks the names (before any WordNet work), then enriches each entry. */
export function vocabularyTexts(entries: VocabularyEntry[], enrich: boolean): { names: string[]; texts: string[] } {
  const cats = entries.map((e) => (typeof e === 'string' ? { name: e } : e));
  checkVocabulary(cats.map((c) => c.name));
  return { names: cats.map((c) => c.name), texts: cats.map((c) => enrichCategory(c, { enabled: enrich })) };
}

/** True when `entries` name exactly the vocabulary already encoded. */
export function sameVocabulary(entries: VocabularyEntry[], current: readonly string[]): boolean {
  const names = entryNames(entries);
  return names.length === current.length && names.every((n, i) => n === current[i]);
}
