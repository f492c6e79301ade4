// Resolving the training config: preset <- config file (YAML or JSON, partial) <- `key=value` overrides, each step
// validated with parseStrict so a bad key or value is reported as one line naming where it came from.
import fs from 'node:fs';
import YAML from 'yaml';
import { parseStrict } from '../config/strict.ts';
import { UserError } from '../errors.ts';
import { preset, trainConfigSchema, PRESET_NAMES, type PresetName, type TrainConfig } from './trainConfig.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses the value of `key=value`: true/false/null, numbers (1e-3, 0.05), JSON arrays/objects/strings, else a string. */
export function parseOverrideValue(raw: string): Json {
  const s = raw.trim();
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null') return null;
  if (NUMBER.test(s)) return Number(s);
  if (/^[[{"]/.test(s)) {
    try { return JSON.parse(s) as Json; } catch { /* not JSON: keep the text */ }
  }
  return s;
}

/** Keys that would reach Object.prototype through plain-object assignment: never config keys. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits `a.b.c=value` into a path and a parsed value. */
export function parseOverride(text: string): { path: string[]; value: Json } {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  if (!key || key.split('.').some((p) => !p)) throw new UserError(`override '${text}': expected key=value with a dotted key, e.g. train.lr=1e-3`);
  const bad = key.split('.').find((p) => UNSAFE_KEYS.has(p));
  if (bad) throw new UserError(`override '${text}': '${bad}' is not a config key`);
  return { path: key.split('.'), value: parseOverrideValue(text.slice(eq + 1)) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns a copy of `obj` with `path` set to `value` (missing sections are created so the schema names the bad key). */
export function setPath(obj: Record<string, unknown>, path: string[], value: unknown, what: string): Record<string, unknown> {
  const root = structuredClone(obj);
  let cur: Record<string, unknown> = root;
  const bad = path.find((p) => UNSAFE_KEYS.has(p));
  if (bad) throw new UserError(`${what}: '${bad}' is not a config key`);
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (!Object.hasOwn(cur, k)) cur[k] = {};
    const next = cur[k];
    if (!isObject(next)) throw new UserError(`${what}: '${path.slice(0, i + 1).join('.')}' is a value, not a section`);
    cur = next;
  }
  cur[path[path.length - 1]!] = value;
  return root;
}

/** Deep-merges a partial config into a full one (objects merge, everything else replaces). */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (UNSAFE_KEYS.has(k)) throw new UserError(`'${k}' is not a config key`);
    out[k] = isObject(v) && isObject(out[k]) && Object.hasOwn(out, k) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function strict(value: unknown, where: string): TrainConfig {
  try {
    return parseStrict(trainConfigSchema, value, where);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/** Applies `key=value` overrides to a config, validating after each so errors name the offending override. */
export function applyOverrides(config: TrainConfig, overrides: readonly string[]): TrainConfig {
  let cur = config;
  for (const text of overrides) {
    const { path, value } = parseOverride(text);
    cur = strict(setPath(cur as unknown as Record<string, unknown>, path, value, `override '${text}'`), `override '${text}'`);
  }
  return cur;
}

export interface ResolveOptions {
  preset?: string;              // default 'tiny'
  file?: string;                // YAML or JSON with any subset of the config
  overrides?: readonly string[];
}

/** The resolved training config from a preset, an optional file and overrides. Bad input throws UserError. */
export function resolveTrainConfig(opts: ResolveOptions = {}): TrainConfig {
  const name = opts.preset ?? 'tiny';
  if (!PRESET_NAMES.includes(name as PresetName)) throw new UserError(`unknown train preset '${name}' (expected one of ${PRESET_NAMES.join(', ')})`);
  let config = preset(name as PresetName);
  if (opts.file) {
    let text: string;
    try { text = fs.readFileSync(opts.file, 'utf8'); } catch (e) {
      throw new UserError(`${opts.file}: cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let parsed: unknown;
    // logLevel 'error': no process warnings from library code (the schema judges the values)
    try { parsed = YAML.parse(text, { logLevel: 'error' }); } catch (e) {
      throw new UserError(`${opts.file}: not valid YAML/JSON (${(e as Error).message.split('\n')[0]})`);
    }
    if (parsed != null && !isObject(parsed)) throw new UserError(`${opts.file}: the config must be a mapping of sections`);
    let merged: Record<string, unknown>;
    try { merged = deepMerge(config as unknown as Record<string, unknown>, (parsed ?? {}) as Record<string, unknown>); } catch (e) {
      throw new UserError(`${opts.file}: ${(e as Error).message}`);
    }
    config = strict(merged, opts.file);
  }
  return applyOverrides(config, opts.overrides ?? []);
}
