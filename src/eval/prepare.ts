// Checks ground truth and detections (from a file or from memory) and lays them out as flat typed arrays,
// images and categories numbered in ascending id order as both references iterate them. Every problem is a
// UserError naming the source and the record, e.g. "dt.json: [17]: category_id 999 is not a category of the ground truth".
import { UserError } from '../errors.ts';

export type Protocol = 'coco' | 'lvis';

/** Ground truth as flat arrays; box is [x, y, w, h] per annotation, in file order. */
export interface GroundTruth {
  imageIds: number[]; // ascending
  imageIndex: Map<number, number>;
  categoryIds: number[]; // ascending
  categoryIndex: Map<number, number>;
  categoryNames: string[]; // by category index
  frequency: ('r' | 'c' | 'f' | undefined)[]; // by category index
  /** LVIS: image index -> category ids verified absent / not exhaustively annotated. */
  negCategories: Set<number>[];
  notExhaustive: Set<number>[];
  n: number;
  img: Int32Array;
  cat: Int32Array;
  box: Float64Array;
  area: Float64Array;
  iscrowd: Uint8Array;
  ignore: Uint8Array;
  /** pycocotools marks a match by the gt's id, so a gt whose id is 0 can never count as matched. */
  idIsZero: Uint8Array;
}

/** Detections as flat arrays, in the list's order (which decides ties). */
export interface Detections {
  n: number;
  img: Int32Array;
  cat: Int32Array;
  box: Float64Array;
  score: Float64Array;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const fail = (where: string, rec: string, msg: string): never => { throw new UserError(`${where}: ${rec}: ${msg}`); };

/** A value for an error message (arrays of numbers shown with Infinity / NaN, which JSON.stringify hides). */
const show = (v: unknown): string =>
  typeof v === 'number' ? String(v) : Array.isArray(v) ? `[${v.map((x) => (typeof x === 'number' ? String(x) : JSON.stringify(x))).join(', ')}]`.slice(0, 80)
    : String(JSON.stringify(v)).slice(0, 80);

function checkBox(b: unknown, where: string, rec: string): number[] {
  if (!Array.isArray(b) || b.length !== 4 || !b.every(isNum)) fail(where, rec, `bbox must be 4 finite numbers [x, y, w, h], got ${show(b)}`);
  const box = b as number[];
  if (box[2]! < 0 || box[3]! < 0) fail(where, rec, `bbox width and height must be >= 0, got ${show(box)}`);
  return box;
}

function checkIdList(v: unknown, where: string, rec: string, key: string): Set<number> {
  if (!Array.isArray(v) || !v.every(isNum)) fail(where, rec, `'${key}' must be a list of category ids (the LVIS protocol needs it)`);
  return new Set(v as number[]);
}

function uniqueIds(list: unknown[], where: string, section: string): number[] {
  const seen = new Set<number>();
  return list.map((r, i) => {
    if (!isObject(r)) fail(where, `${section}[${i}]`, 'must be an object');
    const id = (r as Record<string, unknown>).id;
    if (!isNum(id)) fail(where, `${section}[${i}]`, `'id' must be a number, got ${show(id)}`);
    if (seen.has(id as number)) fail(where, `${section}[${i}]`, `duplicate id ${id}`);
    seen.add(id as number);
    return id as number;
  });
}

/** Validates a COCO / LVIS ground-truth dataset and flattens it. */
export function prepareGroundTruth(gt: unknown, protocol: Protocol, where = 'ground truth'): GroundTruth {
  if (!isObject(gt)) throw new UserError(`${where}: must be a JSON object with images, annotations and categories`);
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(gt[key])) throw new UserError(`${where}: '${key}' must be a list`);
  }
  const images = gt.images as unknown[];
  const anns = gt.annotations as unknown[];
  const cats = gt.categories as unknown[];

  const imageIdsInFile = uniqueIds(images, where, 'images');
  const catIdsInFile = uniqueIds(cats, where, 'categories');
  const imageOrder = imageIdsInFile.map((_, i) => i).sort((a, b) => imageIdsInFile[a]! - imageIdsInFile[b]!);
  const catOrder = catIdsInFile.map((_, i) => i).sort((a, b) => catIdsInFile[a]! - catIdsInFile[b]!);
  const imageIds = imageOrder.map((i) => imageIdsInFile[i]!);
  const categoryIds = catOrder.map((i) => catIdsInFile[i]!);
  const imageIndex = new Map(imageIds.map((id, i) => [id, i]));
  const categoryIndex = new Map(categoryIds.map((id, i) => [id, i]));

  const categoryNames: string[] = [];
  const frequency: ('r' | 'c' | 'f' | undefined)[] = [];
  for (const i of catOrder) {
    const c = cats[i] as Record<string, unknown>;
    const rec = `categories[${i}]`;
    if (c.name !== undefined && typeof c.name !== 'string') fail(where, rec, `'name' must be a string`);
    categoryNames.push(typeof c.name === 'string' ? c.name : String(c.id));
    if (protocol === 'lvis') {
      if (c.frequency !== 'r' && c.frequency !== 'c' && c.frequency !== 'f') {
        fail(where, rec, `'frequency' must be 'r', 'c' or 'f' (the LVIS protocol needs it), got ${show(c.frequency)}`);
      }
      frequency.push(c.frequency as 'r' | 'c' | 'f');
    } else {
      frequency.push(undefined);
    }
  }

  const negCategories: Set<number>[] = [];
  const notExhaustive: Set<number>[] = [];
  if (protocol === 'lvis') {
    for (const i of imageOrder) {
      const im = images[i] as Record<string, unknown>;
      negCategories.push(checkIdList(im.neg_category_ids, where, `images[${i}]`, 'neg_category_ids'));
      notExhaustive.push(checkIdList(im.not_exhaustive_category_ids, where, `images[${i}]`, 'not_exhaustive_category_ids'));
    }
  }

  const n = anns.length;
  const out: GroundTruth = {
    imageIds, imageIndex, categoryIds, categoryIndex, categoryNames, frequency, negCategories, notExhaustive, n,
    img: new Int32Array(n), cat: new Int32Array(n), box: new Float64Array(4 * n), area: new Float64Array(n),
    iscrowd: new Uint8Array(n), ignore: new Uint8Array(n), idIsZero: new Uint8Array(n),
  };
  const annIds = new Set<number>();
  for (let i = 0; i < n; i++) {
    const a = anns[i];
    const rec = `annotations[${i}]`;
    if (!isObject(a)) fail(where, rec, 'must be an object');
    const r = a as Record<string, unknown>;
    if (!isNum(r.id)) fail(where, rec, `'id' must be a number, got ${show(r.id)}`);
    if (annIds.has(r.id as number)) fail(where, rec, `duplicate id ${r.id}`);
    annIds.add(r.id as number);
    const im = imageIndex.get(r.image_id as number);
    if (im === undefined) fail(where, rec, `image_id ${show(r.image_id)} is not in 'images'`);
    const ca = categoryIndex.get(r.category_id as number);
    if (ca === undefined) fail(where, rec, `category_id ${show(r.category_id)} is not in 'categories'`);
    const box = checkBox(r.bbox, where, rec);
    if (!isNum(r.area)) fail(where, rec, `'area' must be a finite number, got ${show(r.area)}`);
    out.img[i] = im!;
    out.cat[i] = ca!;
    out.box.set(box, 4 * i);
    out.area[i] = r.area as number;
    out.iscrowd[i] = r.iscrowd ? 1 : 0;
    out.ignore[i] = r.ignore ? 1 : 0;
    out.idIsZero[i] = r.id === 0 ? 1 : 0;
  }
  return out;
}

/** Accumulates validated detections record by record (so a huge results file never exists as objects at once). */
export class DetectionsBuilder {
  private n = 0;
  private img: Int32Array;
  private cat: Int32Array;
  private box: Float64Array;
  private score: Float64Array;
  /** `expected`: a guess at the record count (e.g. file bytes / 64), to size the arrays once. */
  constructor(private readonly gt: GroundTruth, private readonly where = 'detections', expected = 1024) {
    const n = Math.max(16, Math.ceil(expected));
    this.img = new Int32Array(n); this.cat = new Int32Array(n); this.box = new Float64Array(4 * n); this.score = new Float64Array(n);
  }

  private grow(): void {
    const size = Math.ceil(this.img.length * 1.5);
    const g = <A extends Int32Array | Float64Array>(a: A, width = 1): A => {
      const out = new (a.constructor as new (n: number) => A)(size * width);
      out.set(a);
      return out;
    };
    this.img = g(this.img); this.cat = g(this.cat); this.score = g(this.score); this.box = g(this.box, 4);
  }

  /** Checks one record `{image_id, category_id, bbox, score}`; `index` is its position in the list. */
  add(record: unknown, index: number): void {
    const { gt, where } = this;
    const rec = `[${index}]`;
    if (!isObject(record)) fail(where, rec, 'must be an object {image_id, category_id, bbox, score}');
    const r = record as Record<string, unknown>;
    const im = gt.imageIndex.get(r.image_id as number);
    if (im === undefined) fail(where, rec, `image_id ${show(r.image_id)} is not an image of the ground truth`);
    const ca = gt.categoryIndex.get(r.category_id as number);
    if (ca === undefined) fail(where, rec, `category_id ${show(r.category_id)} is not a category of the ground truth`);
    const b = r.bbox;
    // Inline fast path for the common case; checkBox gives the message otherwise.
    if (!(Array.isArray(b) && b.length === 4 && isNum(b[0]) && isNum(b[1]) && isNum(b[2]) && isNum(b[3]) && b[2] >= 0 && b[3] >= 0)) {
      checkBox(b, where, rec);
    }
    if (!isNum(r.score)) fail(where, rec, `'score' must be a finite number, got ${show(r.score)}`);
    if (this.n === this.img.length) this.grow();
    const i = this.n++;
    this.img[i] = im!;
    this.cat[i] = ca!;
    const bb = b as number[];
    const o = 4 * i;
    this.box[o] = bb[0]!; this.box[o + 1] = bb[1]!; this.box[o + 2] = bb[2]!; this.box[o + 3] = bb[3]!;
    this.score[i] = r.score as number;
  }

  /** The detections so far (views of the builder's arrays, not copies). */
  finish(): Detections {
    const n = this.n;
    return { n, img: this.img.subarray(0, n), cat: this.cat.subarray(0, n), box: this.box.subarray(0, 4 * n), score: this.score.subarray(0, n) };
  }
}

/** Validates a results list `[{image_id, category_id, bbox, score}]` against the ground truth and flattens it. */
export function prepareDetections(dt: unknown, gt: GroundTruth, where = 'detections'): Detections {
  if (!Array.isArray(dt)) throw new UserError(`${where}: must be a JSON list of {image_id, category_id, bbox, score}`);
  const b = new DetectionsBuilder(gt, where);
  for (let i = 0; i < dt.length; i++) b.add(dt[i], i);
  return b.finish();
}

/** The detections at the given indices (in that order). */
export function selectDetections(d: Detections, keep: ArrayLike<number>, n = keep.length): Detections {
  const out: Detections = {
    n, img: new Int32Array(n), cat: new Int32Array(n), box: new Float64Array(4 * n), score: new Float64Array(n),
  };
  for (let j = 0; j < n; j++) {
    const i = keep[j]!;
    out.img[j] = d.img[i]!;
    out.cat[j] = d.cat[i]!;
    out.score[j] = d.score[i]!;
    out.box[4 * j] = d.box[4 * i]!; out.box[4 * j + 1] = d.box[4 * i + 1]!;
    out.box[4 * j + 2] = d.box[4 * i + 2]!; out.box[4 * j + 3] = d.box[4 * i + 3]!;
  }
  return out;
}
