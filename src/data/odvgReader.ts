// ODVG JSONL (mmdetection's Grounding-DINO format): detection records with a label-map file, and grounding
// records whose regions name a phrase of the caption (tokens_positive = character spans).
import { boxProblem, DataFileError, isRecord, readJsonFile, readJsonl, readLines, readSize, resolveImagePath } from './fileHelpers.ts';
import type { IssueHandler, Sample, SampleSource } from './types.ts';
import { enrichCategory, type CategoryLike, type EnrichOptions } from './wordnetEnrich.ts';

export interface OdvgReaderOptions {
  kind?: 'detection' | 'grounding';      // default: detection when a label map is given, else grounding
  labelMap?: string;                     // JSON {"0": "person", ...} (values may be {name, synset, text})
  images?: string;
  enrich?: EnrichOptions;
  textOverrides?: Record<string, string>;
}

export interface OdvgSource extends SampleSource {
  kind: 'detection' | 'grounding';
  /** detection with a label map: label -> index into `vocabulary` */
  labelIndex?: Map<number, number>;
}

/** Reads a label-map file into (label -> category). */
export function readLabelMap(file: string): Map<number, CategoryLike> {
  const json = readJsonFile(file);
  if (!isRecord(json)) throw new DataFileError(file, 'a label map must be a JSON object {"0": "name", ...}');
  const out = new Map<number, CategoryLike>();
  for (const [k, v] of Object.entries(json)) {
    const label = Number(k);
    const cat = typeof v === 'string' ? { name: v } : isRecord(v) && typeof v.name === 'string' ? (v as unknown as CategoryLike) : undefined;
    if (!Number.isInteger(label) || !cat || cat.name.trim() === '')
      throw new DataFileError(file, `entry ${JSON.stringify(k)}: expected an integer key and a name`);
    out.set(label, cat);
  }
  return out;
}

/** The kind of the first record of an ODVG file ('detection' | 'grounding'), or undefined if none is recognisable. */
export async function sniffOdvgKind(file: string): Promise<'detection' | 'grounding' | undefined> {
  for await (const { text } of readLines(file)) {
    try {
      const v = JSON.parse(text);
      if (isRecord(v) && isRecord(v.detection)) return 'detection';
      if (isRecord(v) && isRecord(v.grounding)) return 'grounding';
    } catch { /* malformed: look at the next line */ }
  }
  return undefined;
}

/** A region's bbox: one box or a list of boxes. */
const boxList = (b: unknown): unknown[] => (Array.isArray(b) && b.length > 0 && Array.isArray(b[0]) ? b : [b]);

export function openOdvg(file: string, opts: OdvgReaderOptions = {}): OdvgSource {
  const kind = opts.kind ?? (opts.labelMap ? 'detection' : 'grounding');
  let vocabulary: string[] | undefined;
  let labelIndex: Map<number, number> | undefined;
  if (opts.labelMap) {
    const map = readLabelMap(opts.labelMap);
    labelIndex = new Map([...map.keys()].map((l, i) => [l, i]));
    vocabulary = [...map.values()].map((c) => enrichCategory({ ...c, text: opts.textOverrides?.[c.name] ?? c.text }, opts.enrich));
  }
  const nameCache = new Map<string, string>();
  const conceptOfName = (name: string): string => {
    let t = nameCache.get(name);
    if (t === undefined) nameCache.set(name, (t = enrichCategory({ name, text: opts.textOverrides?.[name] }, opts.enrich)));
    return t;
  };

  function detection(r: Record<string, unknown>, record: string, size: { width?: number; height?: number }, onIssue: IssueHandler):
      Pick<Sample, 'boxes' | 'boxConcepts' | 'concepts'> | undefined {
    const det = r.detection;
    if (!isRecord(det) || !Array.isArray(det.instances)) { onIssue({ file, record, message: "needs 'detection.instances' (a list)" }); return undefined; }
    const boxes: number[][] = [];
    const boxConcepts: number[] = [];
    const concepts: string[] = [];
    const local = new Map<string, number>();
    for (const [j, inst] of det.instances.entries()) {
      if (!isRecord(inst)) { onIssue({ file, record, message: `instance ${j}: not an object` }); return undefined; }
      let text: string | undefined;
      if (labelIndex) {
        const li = labelIndex.get(inst.label as number);
        if (li === undefined) { onIssue({ file, record, message: `instance ${j}: unknown category id ${JSON.stringify(inst.label)} (not in the label map)` }); return undefined; }
        text = vocabulary![li];
      } else if (typeof inst.category === 'string' && inst.category.trim() !== '') {
        text = conceptOfName(inst.category);
      } else {
        onIssue({ file, record, message: `instance ${j}: needs a 'category' name (or give a label map)` });
        return undefined;
      }
      const problem = boxProblem(inst.bbox, size.width, size.height);
      if (problem) { onIssue({ file, record, message: `instance ${j}: ${problem}` }); return undefined; }
      let k = local.get(text!);
      if (k === undefined) { k = concepts.length; local.set(text!, k); concepts.push(text!); }
      boxes.push(inst.bbox as number[]);
      boxConcepts.push(k);
    }
    return { boxes, boxConcepts, concepts };
  }

  function grounding(r: Record<string, unknown>, record: string, size: { width?: number; height?: number }, onIssue: IssueHandler):
      Pick<Sample, 'boxes' | 'boxConcepts' | 'concepts' | 'caption'> | undefined {
    const g = r.grounding;
    if (!isRecord(g) || !Array.isArray(g.regions)) { onIssue({ file, record, message: "needs 'grounding.caption' and 'grounding.regions'" }); return undefined; }
    const caption = g.caption;
    if (typeof caption !== 'string' || caption.trim() === '') { onIssue({ file, record, message: 'empty caption' }); return undefined; }
    const boxes: number[][] = [];
    const boxConcepts: number[] = [];
    const concepts: string[] = [];
    const local = new Map<string, number>();
    for (const [j, reg] of g.regions.entries()) {
      if (!isRecord(reg)) { onIssue({ file, record, message: `region ${j}: not an object` }); return undefined; }
      const spans = reg.tokens_positive;
      if (spans !== undefined) {
        if (!Array.isArray(spans)) { onIssue({ file, record, message: `region ${j}: tokens_positive must be a list of [start, end]` }); return undefined; }
        for (const s of spans) {
          if (!Array.isArray(s) || s.length !== 2 || !Number.isInteger(s[0]) || !Number.isInteger(s[1]) || s[0] < 0 || s[1] <= s[0] || s[1] > caption.length) {
            onIssue({ file, record, message: `region ${j}: tokens_positive ${JSON.stringify(s)} is outside the caption (length ${caption.length})` });
            return undefined;
          }
        }
      }
      let phrase = typeof reg.phrase === 'string' ? reg.phrase.trim() : '';
      if (phrase === '' && Array.isArray(spans) && spans.length > 0) phrase = (spans as number[][]).map(([s, e]) => caption.slice(s, e)).join(' ').trim();
      if (phrase === '') { onIssue({ file, record, message: `region ${j}: needs a 'phrase' or 'tokens_positive'` }); return undefined; }
      for (const b of boxList(reg.bbox)) {
        const problem = boxProblem(b, size.width, size.height);
        if (problem) { onIssue({ file, record, message: `region ${j}: ${problem}` }); return undefined; }
      }
      const text = phrase.toLowerCase();
      let k = local.get(text);
      if (k === undefined) { k = concepts.length; local.set(text, k); concepts.push(text); }
      for (const b of boxList(reg.bbox)) { boxes.push(b as number[]); boxConcepts.push(k); }
    }
    return { boxes, boxConcepts, concepts, caption };
  }

  async function* samples(onIssue: IssueHandler): AsyncGenerator<Sample> {
    for await (const { line, value } of readJsonl(file, onIssue)) {
      const record = `line ${line}`;
      if (!isRecord(value)) { onIssue({ file, record, message: 'not a JSON object' }); continue; }
      if (typeof value.filename !== 'string' || value.filename === '') { onIssue({ file, record, message: "needs a 'filename'" }); continue; }
      const size = readSize(value, file, record, onIssue);
      if (!size.ok) continue;
      const part = kind === 'detection' ? detection(value, record, size, onIssue) : grounding(value, record, size, onIssue);
      if (!part) continue;
      if (part.boxes.length === 0) continue; // nothing to learn from (not an error)
      yield {
        kind, source: file, record, image: resolveImagePath(value.filename, file, opts.images),
        width: size.width, height: size.height, ...part, numPositive: part.concepts.length,
      };
    }
  }

  return { kind, file, vocabulary, labelIndex, samples };
}
