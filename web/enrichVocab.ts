// Precomputes concept enrichment for the browser page. A model trained with enrichment saw "name, definition"
// texts (WordNet, Node-only and ~30 MB), so the page looks phrases up in enrich.json next to the model instead:
//   node --import tsx web/enrichVocab.ts --out runs/demo/model/enrich.json --vocab "coat,dress,seven"
//   node --import tsx web/enrichVocab.ts --out runs/demo/model/enrich.json --vocab-file data/ovd-mnist/val.json
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrichCategory } from '../src/data/wordnetEnrich.ts';
import { vocabularyFromFile, vocabularyFromList, type VocabCategory } from '../src/infer/vocabulary.ts';
import { atomicWriteFileSync } from '../src/io/atomicWrite.ts';

/** phrase -> enriched text; an existing file's entries are kept (new ones win). */
export function enrichmentTable(vocab: VocabCategory[], existing: Record<string, string> = {}): Record<string, string> {
  const out = { ...existing };
  for (const c of vocab) out[c.name.trim()] = enrichCategory(c);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const out = arg('--out');
  const list = arg('--vocab');
  const file = arg('--vocab-file');
  try {
    if (!out || (list === undefined) === (file === undefined)) throw new Error('usage: web/enrichVocab.ts --out DIR/enrich.json (--vocab "a,b" | --vocab-file F)');
    const vocab = list !== undefined ? vocabularyFromList(list) : vocabularyFromFile(file!);
    const existing = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string> : {};
    const table = enrichmentTable(vocab, existing);
    atomicWriteFileSync(out, JSON.stringify(table, null, 1) + '\n');
    process.stdout.write(`${out}: ${Object.keys(table).length} phrases (e.g. "${table[vocab[0]!.name.trim()]}")\n`);
  } catch (e) {
    process.stderr.write(`enrichVocab: ${(e as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
