// Small helpers every reader shares: the image-path rule, JSONL line streaming, box validation.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { UserError } from '../errors.ts';
import type { IssueHandler } from './types.ts';

/**
 * The one rule for image paths: absolute paths stay; relative ones resolve against `imagesDir` when given,
 * else against the folder of the annotation file.
 */
export function resolveImagePath(image: string, annotationFile: string, imagesDir?: string): string {
  if (path.isAbsolute(image)) return image;
  return path.resolve(imagesDir ?? path.dirname(annotationFile), image);
}

/**
 * Streams a text file line by line with 1-based line numbers (blank lines skipped). A file that cannot be read
 * (missing, a folder, an I/O error midway) throws DataFileError naming it.
 */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() !== '') yield { line, text };
    }
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).errno !== 'number') throw err;
    throw new DataFileError(file, `cannot read file${line ? ` after line ${line}` : ''} (${(err as NodeJS.ErrnoException).code})`);
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Streams JSONL records; malformed lines become issues ("line N: malformed JSON ...") and are skipped. */
export async function* readJsonl(file: string, onIssue: IssueHandler): AsyncGenerator<{ line: number; value: unknown }> {
  for await (const { line, text } of readLines(file)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      onIssue({ file, record: `line ${line}`, message: `malformed JSON (${(err as Error).message})` });
      continue;
    }
    yield { line, value };
  }
}

/** Reads a whole JSON file; a parse error names the file (and the position JSON.parse reports). */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataFileError(file, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // Turn V8's "at position N" into a line number people can open.
    const msg = (err as Error).message;
    const pos = /at position (\d+)/.exec(msg);
    const where = pos ? ` at line ${text.slice(0, Number(pos[1])).split('\n').length}` : '';
    throw new DataFileError(file, `malformed JSON${where} (${msg})`);
  }
}

/** A whole file is unusable (missing, unreadable, not JSON, wrong top-level shape). */
export class DataFileError extends UserError {
  override name = 'DataFileError';
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slack (pixels) for boxes that leave the image by rounding only. */
export const BOX_SLACK = 1;

/** Returns why an xyxy box is invalid for an image of (width, height), or null when it is fine. */
export function boxProblem(b: unknown, width?: number, height?: number): string | null {
  if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)))
    return `box ${JSON.stringify(b)} is not 4 finite numbers`;
  const [x1, y1, x2, y2] = b as number[];
  if (!(x2! > x1!) || !(y2! > y1!)) return `box [${b.join(', ')}] has non-positive size`;
  if (width !== undefined && height !== undefined &&
      (x1! < -BOX_SLACK || y1! < -BOX_SLACK || x2! > width + BOX_SLACK || y2! > height + BOX_SLACK))
    return `box [${b.join(', ')}] is outside the ${width}x${height} image`;
  return null;
}

/** Positive integer image size fields, or undefined when absent; wrong types become an issue. */
export function readSize(r: Record<string, unknown>, file: string, record: string, onIssue: IssueHandler):
    { ok: boolean; width?: number; height?: number } {
  const { width, height } = r;
  if (width === undefined && height === undefined) return { ok: true };
  if (!(Number.isInteger(width) && (width as number) > 0 && Number.isInteger(height) && (height as number) > 0)) {
    onIssue({ file, record, message: `width/height must be positive integers, got ${JSON.stringify(width)}x${JSON.stringify(height)}` });
    return { ok: false };
  }
  return { ok: true, width: width as number, height: height as number };
}
