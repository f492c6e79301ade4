// buildDetClip: the whole DetCLIPv2 network (image encoder + text encoder) in one ParamStore. Browser-safe
// (no node:*): the web page builds the model with it too.
import { ParamStore } from './params.ts';
import { ImageEncoder } from './imageEncoder.ts';
import { TextEncoder } from './text/textEncoder.ts';
import type { ModelConfig } from '../config/model.ts';
import { Rng } from '../ops/rng.ts';

export interface DetClip {
  cfg: ModelConfig;
  store: ParamStore;     // every parameter: backbone.*, neck.*, head.*, text.*
  image: ImageEncoder;
  text: TextEncoder;
  dispose(): void;
}

/** Builds a freshly initialised model; the same seed gives the same weights. */
export function buildDetClip(cfg: ModelConfig, seed = 0): DetClip {
  const store = ParamStore.create();
  const rng = new Rng(seed);
  const image = new ImageEncoder(store, cfg, rng.fork('image'));
  const text = new TextEncoder(store.scope('text'), cfg.text, rng.fork('text'));
  return {
    cfg, store, image, text,
    dispose() { text.clearCache(); store.dispose(); },
  };
}

