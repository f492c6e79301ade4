// Validation at the edge: zod parsing with unknown keys rejected and a "did you mean" suggestion.
import { z } from 'zod';
import { UserError } from '../errors.ts';

/** Levenshtein distance, for key suggestions. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function suggest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(key.length / 3));
  for (const c of candidates) {
    // the distance is at least the length difference: skip what cannot be suggested (a hostile 1 MB key is O(n) here)
    if (Math.abs(key.length - c.length) > limit) continue;
    const dist = editDistance(key.toLowerCase(), c.toLowerCase());
    if (dist < bestD) { bestD = dist; best = c; }
  }
  return best !== undefined && bestD <= limit ? best : undefined;
}

function shapeKeys(schema: z.ZodType): string[] | undefined {
  const s = schema as unknown as { shape?: Record<string, unknown> };
  return s.shape ? Object.keys(s.shape) : undefined;
}

/**
 * Parses `value` with a strict object schema. Errors become one UserError line naming `where` and the path;
 * an unknown key gets the closest known key as a suggestion.
 */
export function parseStrict<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  // An unknown key usually explains the other issues (a misspelt key leaves its twin missing).
  const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    let sub: z.ZodType | undefined = schema;
    for (const p of issue.path) {
      const shape: Record<string, z.ZodType> | undefined = (sub as unknown as { shape?: Record<string, z.ZodType> })?.shape;
      sub = shape?.[String(p)];
      // unwrap optional/default wrappers
      while (sub && (sub as unknown as { unwrap?: () => z.ZodType }).unwrap && !(sub as unknown as { shape?: unknown }).shape)
        sub = (sub as unknown as { unwrap: () => z.ZodType }).unwrap();
    }
    const known = sub ? shapeKeys(sub) ?? [] : [];
    const k = keys[0]!;
    const s = suggest(k, known);
    const shown = k.length > 80 ? `${k.slice(0, 80)}… (${k.length} characters)` : k;
    throw new UserError(`${where}: unknown key '${at ? `${at}.` : ''}${shown}'${s ? ` (did you mean '${s}'?)` : ''}`);
  }
  throw new UserError(`${where}: ${at ? `'${at}': ` : ''}${issue.message}`);
}
