// Concept enrichment (DetCLIP): a category becomes "name, definition", the same text at training and test time.
import { sharedWordNet, type WordNet } from './wordnet.ts';

export interface CategoryLike {
  name: string;
  synset?: string;        // LVIS style, e.g. 'aerosol.n.02'
  text?: string;          // explicit override of the concept text
  def?: string;           // LVIS files carry the definition too; used when WordNet has no entry
}

export interface EnrichOptions {
  enabled?: boolean;      // false: the concept is just the name (default true)
  wordnet?: WordNet;
}

/** Display form of a category name: LVIS names use underscores ('ankle_boot'). */
export const displayName = (name: string): string => name.replace(/_/g, ' ').trim();

/**
 * The concept text of a category: its `text` override; else "name, definition" with the definition of its
 * `synset` (or its `def` field), else of the name's first WordNet noun sense; else the bare name.
 */
export function enrichCategory(cat: CategoryLike, opts: EnrichOptions = {}): string {
  if (cat.text !== undefined && cat.text.trim() !== '') return cat.text.trim();
  const name = displayName(cat.name);
  if (opts.enabled === false) return name;
  const wn = opts.wordnet ?? sharedWordNet();
  let def: string | undefined;
  if (cat.synset) def = wn.synset(cat.synset)?.definition;
  def ??= cat.def?.trim() || undefined;
  def ??= wn.firstNounSense(name)?.definition;
  return def ? `${name}, ${def}` : name;
}

/** The plain name a concept text starts with ("coat, an outer garment ..." -> "coat"). */
export const conceptName = (text: string): string => text.split(',')[0]!.trim();
