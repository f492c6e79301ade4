// The vocabulary of `detclip detect`: comma-separated phrases (--vocab) or a file (--vocab-file): one phrase per
// line, a JSON array of phrases, a JSON array of COCO categories ({id, name, synset?, def?, text?}) or a COCO
// dataset ({categories: [...]}). COCO categories keep their ids; phrases get ids 1..n in order (1-based, as COCO).
import fs from 'node:fs';
import { UserError } from '../errors.ts';
import type { CategoryLike } from '../data/wordnetEnrich.ts';

export interface VocabCategory extends CategoryLike { id: number }

function finish(cats: VocabCategory[], where: string): VocabCategory[] {
  if (cats.length === 0) throw new UserError(`${where}: the vocabulary is empty: give at least one word or phrase`);
  const names = new Map<string, number>();
  const ids = new Map<number, number>();
  cats.forEach((c, i) => {
    const key = c.name.trim().toLowerCase();
    if (names.has(key)) throw new UserError(`${where}: entry ${i} ('${c.name}') repeats entry ${names.get(key)}`);
    if (ids.has(c.id)) throw new UserError(`${where}: entry ${i} ('${c.name}') has id ${c.id}, as entry ${ids.get(c.id)}`);
    names.set(key, i);
    ids.set(c.id, i);
  });
  return cats;
}

/** `--vocab "a, b, c"`: trimmed phrases, empty pieces dropped, ids 1..n. */
export function vocabularyFromList(list: string): VocabCategory[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return finish(names.map((name, i) => ({ id: i + 1, name })), '--vocab');
}

function fromCategoryRecords(records: unknown[], where: string): VocabCategory[] {
  return records.map((r, i) => {
    if (typeof r === 'string') {
      if (r.trim() === '') throw new UserError(`${where}: entry ${i} is empty`);
      return { id: i + 1, name: r.trim() };
    }
    const c = r as Record<string, unknown>;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw new UserError(`${where}: entry ${i} is neither a phrase nor a category {id, name}`);
    if (typeof c.name !== 'string' || c.name.trim() === '') throw new UserError(`${where}: entry ${i}: 'name' must be a non-empty string`);
    if (!Number.isSafeInteger(c.id)) throw new UserError(`${where}: entry ${i} ('${c.name}'): 'id' must be an integer, got ${JSON.stringify(c.id)}`);
    const opt = (k: string): string | undefined => (typeof c[k] === 'string' && (c[k] as string).trim() !== '' ? (c[k] as string) : undefined);
    return { id: c.id as number, name: c.name, synset: opt('synset'), def: opt('def'), text: opt('text') };
  });
}

/** A vocabulary file (see the header). Errors name the file and the entry. */
export function vocabularyFromFile(file: string): VocabCategory[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read vocabulary file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const t = text.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) {
    let v: unknown;
    try { v = JSON.parse(text); } catch (e) { throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`); }
    if (Array.isArray(v)) return finish(fromCategoryRecords(v, file), file);
    const cats = (v as { categories?: unknown }).categories;
    if (!Array.isArray(cats)) throw new UserError(`${file}: a JSON vocabulary is a list of phrases or categories, or an object with 'categories'`);
    return finish(fromCategoryRecords(cats, `${file}: categories`), file);
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return finish(names.map((name, i) => ({ id: i + 1, name })), file);
}
