// Reading evaluation inputs from files. Any problem becomes one UserError line naming the file (and the record).
// The results list is parsed in batches of records straight from the bytes, so a file of millions of detections
// never lives in memory as millions of objects (nor hits V8's string-length limit).
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { UserError } from '../errors.ts';
import { DetectionsBuilder, prepareGroundTruth, type Detections, type GroundTruth, type Protocol } from './prepare.ts';

function readBytes(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as Error).message.split('\n')[0]})`);
  }
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Reads and parses a whole JSON file. */
export function readJsonFile(path: string): unknown {
  const buf = readBytes(path);
  let text: string;
  try {
    text = buf.toString('utf8');
  } catch (err) {
    throw new UserError(`${path}: too large to read as one JSON text (${firstLine(err)})`);
  }
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${firstLine(err)})`);
  }
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/** Text of buf[s, e): plain ASCII (the usual case) is decoded as latin1, which is the same text, faster. */
const utf8 = (buf: Uint8Array, s: number, e: number): string => {
  const b = Buffer.from(buf.buffer, buf.byteOffset + s, e - s);
  return b.toString(isAscii(b) ? 'latin1' : 'utf8');
};

/**
 * Calls onRecord(value, index) for each element of the top-level JSON array in `buf`, parsing about
 * `batchBytes` of elements at a time; returns the number of elements. `where` names the source in errors.
 *
 * Fast path: a batch ends at the first `}` + `,` past `batchBytes` (found natively) and is parsed as one array.
 * A cut that is not a real element boundary (inside a string or a nested object) always leaves an unclosed
 * string or bracket, so its parse fails; from there on the exact byte scanner takes over.
 */
export function forEachJsonArrayElement(
  buf: Uint8Array, where: string, onRecord: (value: unknown, index: number) => void, batchBytes = 4 << 20,
): number {
  const n = buf.length;
  let i = 0;
  if (n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < n && WS[buf[i]!]) i++;
  if (buf[i] !== 0x5b /* [ */) throw new UserError(`${where}: must be a JSON list of records`);
  let end = n - 1; // the closing ']'
  while (end > i && WS[buf[end]!]) end--;
  if (end <= i || buf[end] !== 0x5d) return scanElements(buf, i + 1, 0, where, onRecord);
  const b = Buffer.from(buf.buffer, buf.byteOffset, n);

  let start = i + 1; // first byte of the batch (just after '[' or a ',')
  let count = 0;
  while (start <= end) {
    let cut = end;
    let from = start + batchBytes;
    while (from < end) {
      const close = b.indexOf(0x7d /* } */, from);
      if (close < 0 || close >= end) break;
      let j = close + 1;
      while (j < end && WS[buf[j]!]) j++;
      if (buf[j] === 0x2c /* , */) { cut = j; break; }
      from = close + 1;
    }
    let values: unknown[];
    try {
      values = JSON.parse(`[${utf8(buf, start, cut)}]`) as unknown[];
    } catch {
      return scanElements(buf, start, count, where, onRecord);
    }
    // Nothing after a ',' (a trailing comma): the scanner reports it.
    if (values.length === 0 && start > i + 1) return scanElements(buf, start, count, where, onRecord);
    for (let k = 0; k < values.length; k++) onRecord(values[k], count + k);
    count += values.length;
    start = cut + 1;
  }
  return count;
}

/**
 * The exact scanner: from `i` (the start of an element, inside the top-level list) to the closing ']',
 * tracking strings and nesting byte by byte, parsing each element on its own. Names the bad record on error.
 */
function scanElements(buf: Uint8Array, i: number, first: number, where: string, onRecord: (value: unknown, index: number) => void): number {
  const n = buf.length;
  let count = first;
  let depth = 0; // nesting inside the current element
  let elemStart = -1;
  let expectValue = true; // after '[' or ','
  const emit = (s: number, e: number): void => {
    let v: unknown;
    try { v = JSON.parse(utf8(buf, s, e)); } catch (err) {
      throw new UserError(`${where}: [${count}]: not valid JSON (${firstLine(err)})`);
    }
    onRecord(v, count++);
  };
  for (; i < n; i++) {
    const c = buf[i]!;
    if (WS[c]) continue;
    if (depth === 0) {
      if (c === 0x5d /* ] */) {
        if (elemStart >= 0) emit(elemStart, i);
        else if (count > 0) throw new UserError(`${where}: not valid JSON (',' before the closing ']')`);
        for (i++; i < n && WS[buf[i]!]; i++);
        if (i < n) throw new UserError(`${where}: not valid JSON (unexpected data after the list)`);
        return count;
      }
      if (c === 0x2c /* , */) {
        if (elemStart < 0) throw new UserError(`${where}: not valid JSON (empty element at record ${count})`);
        emit(elemStart, i);
        elemStart = -1;
        expectValue = true;
        continue;
      }
      if (elemStart < 0) {
        if (!expectValue) throw new UserError(`${where}: not valid JSON (missing ',' before record ${count})`);
        elemStart = i;
        expectValue = false;
      }
    }
    if (c === 0x22 /* " */) {
      for (i++; i < n && buf[i] !== 0x22; i++) if (buf[i] === 0x5c /* \ */) i++;
      if (i >= n) break;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) throw new UserError(`${where}: not valid JSON (unbalanced '${String.fromCharCode(c)}' in record ${count})`);
      depth--;
    }
  }
  throw new UserError(`${where}: not valid JSON (unexpected end of file in record ${count})`);
}

/** Loads and checks a ground-truth file for the protocol. */
export function loadGroundTruthFile(path: string, protocol: Protocol): GroundTruth {
  return prepareGroundTruth(readJsonFile(path), protocol, path);
}

/** Loads and checks a results file against the ground truth. */
export function loadDetectionsFile(path: string, gt: GroundTruth): Detections {
  const bytes = readBytes(path);
  const builder = new DetectionsBuilder(gt, path, bytes.length / 64); // a record takes ~60-90 bytes
  forEachJsonArrayElement(bytes, path, (v, i) => builder.add(v, i));
  return builder.finish();
}
