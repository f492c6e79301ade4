// Captions for OVD-MNIST scenes. Grounding captions name every object with its phrase span
// ("a red six above a green coat"); pair captions, like web captions, sometimes name only some objects
// and sometimes drop the colours.
import type { Rng } from '../../ops/rng.ts';
import type { SceneObject } from './ovdMnistRender.ts';

export interface CaptionRegion { object: number; phrase: string; start: number; end: number }
export interface GroundedCaption { caption: string; regions: CaptionRegion[] }

// By sound: "an eight", "an orange six", but "a one".
const article = (phrase: string): string => (/^one\b/i.test(phrase) ? 'a' : /^[aeiou]/i.test(phrase) ? 'an' : 'a');

/** Where `a` is relative to `b`, by the dominant axis between box centres. */
export function relation(a: SceneObject, b: SceneObject): string {
  const dx = (a.box[0] + a.box[2] - b.box[0] - b.box[2]) / 2;
  const dy = (a.box[1] + a.box[3] - b.box[1] - b.box[3]) / 2;
  if (Math.abs(dy) >= Math.abs(dx)) return dy < 0 ? 'above' : 'below';
  return dx < 0 ? 'left of' : 'right of';
}

/** Builds a caption piece by piece, recording the span of each object's phrase. */
class CaptionBuilder {
  text = '';
  regions: CaptionRegion[] = [];
  add(s: string): void { this.text += s; }
  object(i: number, phrase: string): void {
    this.text += `${article(phrase)} `;
    this.regions.push({ object: i, phrase, start: this.text.length, end: this.text.length + phrase.length });
    this.text += phrase;
  }
}

/**
 * A caption naming the objects `order` (indices into objects) with their phrases. Two objects get a
 * spatial relation or "and"; more get a list, sometimes led by a relation.
 */
export function describe(objects: SceneObject[], order: number[], rng: Rng, withColor = true): GroundedCaption {
  const phrase = (i: number): string => (withColor ? `${objects[i]!.color} ${objects[i]!.category.name}` : objects[i]!.category.name);
  const b = new CaptionBuilder();
  const lead = ['', 'a photo of ', 'an image with ', 'there is '][rng.int(4)]!;
  b.add(lead);
  if (order.length === 1) {
    b.object(order[0]!, phrase(order[0]!));
  } else if (order.length === 2 || rng.next() < 0.5) {
    // "a red six above a green coat[, a blue bag and a white two]"
    b.object(order[0]!, phrase(order[0]!));
    b.add(rng.next() < 0.7 ? ` ${relation(objects[order[0]!]!, objects[order[1]!]!)} ` : ' and ');
    b.object(order[1]!, phrase(order[1]!));
    order.slice(2).forEach((i, k, rest) => {
      b.add(k === rest.length - 1 ? ' and ' : ', ');
      b.object(i, phrase(i));
    });
  } else {
    order.forEach((i, k) => {
      if (k > 0) b.add(k === order.length - 1 ? ' and ' : ', ');
      b.object(i, phrase(i));
    });
  }
  return { caption: b.text, regions: b.regions };
}

/** Grounding: every object, in random order, with colours. */
export function groundingCaption(objects: SceneObject[], rng: Rng): GroundedCaption {
  return describe(objects, rng.permutation(objects.length), rng, true);
}

/**
 * Image-text pair: all objects 60% of the time, else a random non-empty subset. Names only by default
 * (`colorProb` 0): when every object also has its colour, most pairs of a batch are told apart by colour alone and
 * the word-region alignment learns colour instead of the categories (docs/ablations.md: novel AP50 0.058 without
 * colours, 0.025 with, same recipe). Grounding captions keep their colours.
 */
export function pairCaption(objects: SceneObject[], rng: Rng, colorProb = 0): string {
  const n = objects.length;
  const k = n > 1 && rng.next() >= 0.6 ? 1 + rng.int(n - 1) : n;
  const order = rng.sample(Array.from({ length: n }, (_, i) => i), k);
  const withColor = rng.next() < colorProb;
  return describe(objects, order, rng, withColor).caption;
}
