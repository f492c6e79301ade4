// COCO-format detection files (also LVIS: categories may carry `synset`/`def`) -> detection samples.
import { boxProblem, DataFileError, isRecord, readJsonFile, resolveImagePath } from './fileHelpers.ts';
import type { IssueHandler, Sample, SampleSource } from './types.ts';
import { enrichCategory, type EnrichOptions } from './wordnetEnrich.ts';

export interface CocoCategory {
  id: number;
  name: string;
  synset?: string;
  text?: string;
  def?: string;
  split?: string;         // OVD-MNIST: 'base' | 'novel'
}

export interface CocoReaderOptions {
  images?: string;                       // image folder (default: the annotation file's folder)
  enrich?: EnrichOptions;                // concept text = "name, definition"
  textOverrides?: Record<string, string>; // category name -> concept text
  keepEmpty?: boolean;                   // keep images without boxes (default false, as mmdetection)
}

export interface CocoSource extends SampleSource {
  categories: CocoCategory[];
  /** concept text of each category, same order as `categories` (= `vocabulary`) */
  vocabulary: string[];
  numImages: number;
}

/** LVIS: 'http://images.cocodataset.org/val2017/000000397133.jpg' -> 'val2017/000000397133.jpg'. */
export const lvisFileName = (url: string): string => url.split('/').slice(-2).join('/');

/** Opens a COCO JSON file (parsed whole; COCO files are not line-oriented). Throws DataFileError if unusable. */
export function openCoco(file: string, opts: CocoReaderOptions = {}): CocoSource {
  const json = readJsonFile(file);
  if (!isRecord(json) || !Array.isArray(json.images) || !Array.isArray(json.annotations) || !Array.isArray(json.categories))
    throw new DataFileError(file, "not a COCO file (needs 'images', 'annotations' and 'categories' arrays)");
  const categories: CocoCategory[] = [];
  const catIndex = new Map<number, number>();
  for (const [i, c] of (json.categories as unknown[]).entries()) {
    if (!isRecord(c) || !Number.isInteger(c.id) || typeof c.name !== 'string' || c.name.trim() === '')
      throw new DataFileError(file, `category #${i}: needs an integer 'id' and a non-empty 'name'`);
    if (catIndex.has(c.id as number)) throw new DataFileError(file, `category ${c.id}: duplicate id`);
    catIndex.set(c.id as number, categories.length);
    categories.push(c as unknown as CocoCategory);
  }
  const vocabulary = categories.map((c) => enrichCategory({ ...c, text: opts.textOverrides?.[c.name] ?? c.text }, opts.enrich));
  const images = json.images as unknown[];
  const annotations = json.annotations as unknown[];

  async function* samples(onIssue: IssueHandler): AsyncGenerator<Sample> {
    const byImage = new Map<number, Record<string, unknown>>();
    for (const [i, im] of images.entries()) {
      const record = `image #${i}${isRecord(im) && im.id !== undefined ? ` (id ${JSON.stringify(im.id)})` : ''}`;
      if (isRecord(im) && im.file_name === undefined && typeof im.coco_url === 'string')
        im.file_name = lvisFileName(im.coco_url); // LVIS images name their file by COCO URL only
      if (!isRecord(im) || !Number.isInteger(im.id) || typeof im.file_name !== 'string' || im.file_name === '') {
        onIssue({ file, record, message: "needs an integer 'id' and a 'file_name'" });
        continue;
      }
      if (!(Number.isInteger(im.width) && (im.width as number) > 0 && Number.isInteger(im.height) && (im.height as number) > 0)) {
        onIssue({ file, record, message: `width/height must be positive integers, got ${JSON.stringify(im.width)}x${JSON.stringify(im.height)}` });
        continue;
      }
      if (byImage.has(im.id as number)) { onIssue({ file, record, message: 'duplicate image id' }); continue; }
      byImage.set(im.id as number, im);
    }
    const boxesOf = new Map<number, { boxes: number[][]; cats: number[] }>();
    for (const [i, a] of annotations.entries()) {
      const id = isRecord(a) && a.id !== undefined ? ` (id ${JSON.stringify(a.id)})` : '';
      const record = `annotation #${i}${id}`;
      if (!isRecord(a)) { onIssue({ file, record, message: 'not an object' }); continue; }
      const im = byImage.get(a.image_id as number);
      if (!im) { onIssue({ file, record, message: `unknown image id ${JSON.stringify(a.image_id)}` }); continue; }
      const ci = catIndex.get(a.category_id as number);
      if (ci === undefined) { onIssue({ file, record, message: `unknown category id ${JSON.stringify(a.category_id)}` }); continue; }
      if (a.iscrowd === 1) continue; // crowd regions are not trained on
      const b = a.bbox;
      const xyxy = Array.isArray(b) && b.length === 4 ? [b[0], b[1], b[0] + b[2], b[1] + b[3]] : b;
      const problem = boxProblem(xyxy, im.width as number, im.height as number);
      if (problem) {
        onIssue({ file, record, message: problem.replace(/^box \[[^\]]*\]/, `bbox ${JSON.stringify(b)} (xywh)`) });
        continue;
      }
      let entry = boxesOf.get(im.id as number);
      if (!entry) boxesOf.set(im.id as number, (entry = { boxes: [], cats: [] }));
      entry.boxes.push(xyxy as number[]);
      entry.cats.push(ci);
    }
    for (const im of byImage.values()) {
      const entry = boxesOf.get(im.id as number) ?? { boxes: [], cats: [] };
      if (entry.boxes.length === 0 && !opts.keepEmpty) continue;
      // Positives = the categories present, in first-seen order; boxConcepts index into them.
      const present: number[] = [];
      const local = new Map<number, number>();
      const boxConcepts = entry.cats.map((c) => {
        let k = local.get(c);
        if (k === undefined) { k = present.length; local.set(c, k); present.push(c); }
        return k;
      });
      yield {
        kind: 'detection', source: file, record: `image ${im.id}`,
        image: resolveImagePath(im.file_name as string, file, opts.images),
        width: im.width as number, height: im.height as number,
        boxes: entry.boxes, boxConcepts,
        concepts: present.map((c) => vocabulary[c]!), numPositive: present.length,
      };
    }
  }

  return { kind: 'detection', file, categories, vocabulary, numImages: images.length, samples };
}
