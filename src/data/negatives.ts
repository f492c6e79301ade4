// Completing a sample's concept list (DetCLIP's unified formulation):
//   detection: present categories + random absent categories, up to M (default 150)
//   grounding: annotated phrases + dictionary concepts that do not appear in the caption, up to M (default 100)
//   imageText: the caption + its noun phrases.
import type { Rng } from '../ops/rng.ts';
import { nounPhraseTexts } from './nounPhrases.ts';
import type { Sample } from './types.ts';

export const DEFAULT_MAX_CONCEPTS = { detection: 150, grounding: 100 } as const;

/** Detection: positives stay first; absent vocabulary entries fill the list up to M. */
export function addDetectionNegatives(s: Sample, vocabulary: readonly string[], maxConcepts: number, rng: Rng): Sample {
  const pos = s.concepts.slice(0, s.numPositive);
  const present = new Set(pos);
  const need = Math.max(0, maxConcepts - pos.length);
  const absent = vocabulary.filter((c) => !present.has(c));
  const neg = rng.sample(absent, Math.min(need, absent.length));
  return { ...s, concepts: [...pos, ...neg] };
}

const escapeRe = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True when `phrase` occurs in `caption` as whole words (case-insensitive). */
export function mentions(caption: string, phrase: string): boolean {
  const p = phrase.trim().toLowerCase();
  if (p === '') return false;
  return new RegExp(`(^|[^a-z0-9])${escapeRe(p)}($|[^a-z0-9])`).test(caption.toLowerCase());
}

/**
 * Grounding: positives stay first; random dictionary concepts that are neither positives nor mentioned in
 * the caption fill the list up to M. Rejection sampling keeps the cost O(M) for large dictionaries.
 */
export function addGroundingNegatives(s: Sample, dictionary: readonly string[], maxConcepts: number, rng: Rng): Sample {
  const pos = s.concepts.slice(0, s.numPositive);
  const taken = new Set(pos.map((p) => p.toLowerCase()));
  const need = Math.max(0, maxConcepts - pos.length);
  const neg: string[] = [];
  const caption = s.caption ?? '';
  if (dictionary.length > 0) {
    const tries = need * 4 + 16;
    for (let t = 0; t < tries && neg.length < need; t++) {
      const c = dictionary[rng.int(dictionary.length)]!;
      const key = c.toLowerCase();
      if (taken.has(key) || mentions(caption, c)) continue;
      taken.add(key);
      neg.push(c);
    }
  }
  return { ...s, concepts: [...pos, ...neg] };
}

/** Image-text pairs: the whole caption first, then its distinct noun phrases; all positive. */
export function imageTextConcepts(s: Sample): Sample {
  const caption = (s.caption ?? '').trim();
  const phrases = nounPhraseTexts(caption).filter((p) => p !== caption.toLowerCase());
  const concepts = [caption, ...phrases];
  return { ...s, concepts, numPositive: concepts.length };
}

export interface ConceptContext {
  maxConcepts: { detection: number; grounding: number };
  /** per detection source file: its category vocabulary */
  vocabularies: Map<string, readonly string[]>;
  /** concept dictionary for grounding negatives */
  dictionary: readonly string[];
}

/** Completes the concepts of any sample (the reader gives positives only). */
export function completeConcepts(s: Sample, ctx: ConceptContext, rng: Rng): Sample {
  if (s.kind === 'detection') return addDetectionNegatives(s, ctx.vocabularies.get(s.source) ?? [], ctx.maxConcepts.detection, rng);
  if (s.kind === 'grounding') return addGroundingNegatives(s, ctx.dictionary, ctx.maxConcepts.grounding, rng);
  return imageTextConcepts(s);
}
