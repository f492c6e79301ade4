// Noun phrases from captions (the concepts of an image-text pair), with wink-nlp's English lite model.
// A phrase is a run of adjectives/nouns ending on a noun, without determiners or counting numerals:
// "A man in a red shirt riding a brown horse" -> man, red shirt, brown horse.
import winkNLP from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

export interface NounPhrase {
  text: string;           // lower-cased phrase
  start: number;          // character span [start, end) in the caption
  end: number;
}

type Nlp = ReturnType<typeof winkNLP>;
let nlp: Nlp | undefined;
const getNlp = (): Nlp => (nlp ??= winkNLP(model));

interface Tok { text: string; pos: string; start: number; end: number }

const MODIFIER = new Set(['ADJ', 'NOUN', 'PROPN']);
const HEAD = new Set(['NOUN', 'PROPN']);

/** Tokens with character spans; hyphenated words ("t-shirt", "black-and-white") become one token. */
function tokenize(caption: string): Tok[] {
  const doc = getNlp().readDoc(caption);
  const its = getNlp().its;
  const words = doc.tokens().out() as string[];
  const pos = doc.tokens().out(its.pos) as string[];
  const toks: Tok[] = [];
  let cursor = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let start = caption.indexOf(w, cursor);
    if (start < 0) start = cursor; // the tokenizer normalised the text (rare): keep going approximately
    const end = start + w.length;
    cursor = end;
    const prev = toks[toks.length - 1];
    // Glue "x-y" (no spaces around the hyphen) into one word taking the last part's tag.
    if (prev && start === prev.end && (w === '-' || prev.text.endsWith('-'))) {
      prev.text += w;
      prev.end = end;
      if (w !== '-') prev.pos = pos[i]! === 'PUNCT' ? prev.pos : pos[i]!;
      continue;
    }
    toks.push({ text: w, pos: pos[i]!, start, end });
  }
  // A hyphenated compound tagged as punctuation/adposition by its first part is still a word.
  for (const t of toks) if (t.text.includes('-') && t.text.length > 1 && !MODIFIER.has(t.pos)) t.pos = /ed$|ing$/.test(t.text) ? 'ADJ' : 'NOUN';
  return toks;
}

/** A numeral used as a noun ("a red six", "an orange eight"): after a determiner or modifier, not before a noun. */
function numeralIsNoun(toks: Tok[], i: number): boolean {
  const prev = toks[i - 1];
  const next = toks[i + 1];
  return !!prev && (prev.pos === 'DET' || MODIFIER.has(prev.pos)) && !(next && HEAD.has(next.pos));
}

// "a sandal right of a sneaker": a direction word after a noun, before "of", is a relation, not a compound.
const RELATION_WORDS = new Set(['left', 'right', 'top', 'bottom', 'front', 'back', 'side', 'middle', 'next']);
const isRelation = (toks: Tok[], i: number): boolean =>
  RELATION_WORDS.has(toks[i]!.text.toLowerCase()) && ['of', 'to'].includes(toks[i + 1]?.text.toLowerCase() ?? '');

/** Extracts the noun phrases of a caption, in order, each with its character span. */
export function extractNounPhrases(caption: string): NounPhrase[] {
  const toks = tokenize(caption);
  const out: NounPhrase[] = [];
  let run: Tok[] = [];
  const flush = (): void => {
    // Cut after the last head noun: trailing adjectives ("the horse is brown") are not part of a phrase.
    let last = -1;
    for (let k = 0; k < run.length; k++) if (run[k]!.pos === 'HEAD') last = k;
    if (last >= 0) {
      const p = run.slice(0, last + 1);
      out.push({ text: caption.slice(p[0]!.start, p[p.length - 1]!.end).toLowerCase(), start: p[0]!.start, end: p[p.length - 1]!.end });
    }
    run = [];
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const isNumNoun = t.pos === 'NUM' && numeralIsNoun(toks, i);
    // "-ing" after a noun is a participle ("zebras grazing"), whatever the tagger says.
    const afterHead = run.length > 0 && run[run.length - 1]!.pos === 'HEAD';
    const participle = /ing$/i.test(t.text) && afterHead;
    if ((MODIFIER.has(t.pos) || isNumNoun) && !participle && !(afterHead && isRelation(toks, i))) {
      run.push({ ...t, pos: HEAD.has(t.pos) || isNumNoun ? 'HEAD' : 'MOD' });
    } else {
      flush();
    }
  }
  flush();
  return out;
}

/** Distinct noun phrase texts of a caption, in first-seen order. */
export function nounPhraseTexts(caption: string): string[] {
  return [...new Set(extractNounPhrases(caption).map((p) => p.text))];
}
