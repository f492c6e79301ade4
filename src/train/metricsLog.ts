// Training metrics as append-only JSON lines (one object per line), plus a reader that tolerates the torn last line
// a crash can leave and a truncation used on resume (drops lines logged after the checkpoint's step).
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';

/** One training micro-batch: `loss` is the total, `losses` its parts; gradNorm on the micro-batch that applied the update. */
export interface TrainRecord {
  step: number;                    // 1-based optimizer step this micro-batch belongs to
  kind: string;                    // 'detection' | 'grounding' | 'imageText'
  micro?: number;                  // micro-batch index within the step (gradient accumulation > 1 only)
  lr: number;
  loss: number;
  losses: Record<string, number>;
  gradNorm?: number;
  time: number;                    // seconds of training so far (cumulative across resumes)
}

/** An evaluation result at a step (numbers from the eval callback). */
export interface EvalRecord {
  step: number;
  kind: 'eval';
  metrics: Record<string, number>;
  time: number;
}

export type MetricsRecord = TrainRecord | EvalRecord;

export class MetricsLog {
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }

  append(record: MetricsRecord): void {
    fs.appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

/**
 * Reads a metrics file ([] when missing). A final line without its newline (torn by a crash) is skipped; any other
 * unparsable line throws naming the file and line.
 */
export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const torn = !text.endsWith('\n');
  const out: MetricsRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as MetricsRecord;
      if (typeof r !== 'object' || r === null || typeof r.step !== 'number' || typeof r.kind !== 'string') throw new Error('no step/kind');
      out.push(r);
    } catch (e) {
      if (torn && i === lines.length - 1) break;
      throw new Error(`${file}: line ${i + 1}: not a metrics record (${(e as Error).message})`);
    }
  }
  return out;
}

/** Rewrites the file (atomically) keeping only records with step <= `step`; used when resuming from a checkpoint. */
export function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = readMetrics(file).filter((r) => r.step <= step);
  atomicWriteFileSync(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
}
