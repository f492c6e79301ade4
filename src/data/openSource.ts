// One entry point from a source description (kind, format, file) to its reader.
import { UserError } from '../errors.ts';
import { openCoco } from './cocoReader.ts';
import type { SourceConfig } from './config.ts';
import { DataFileError } from './fileHelpers.ts';
import { openOdvg } from './odvgReader.ts';
import { openPairs } from './pairsReader.ts';
import type { SampleSource } from './types.ts';
import { openWds } from './wdsReader.ts';
import type { EnrichOptions } from './wordnetEnrich.ts';

export interface OpenOptions {
  enrich?: EnrichOptions;
  textOverrides?: Record<string, string>;
}

/** Opens a configured source; whole-file problems (missing, not JSON, wrong shape) become a UserError. */
export function openSource(src: SourceConfig, opts: OpenOptions = {}): SampleSource {
  const files = Array.isArray(src.file) ? src.file : [src.file];
  const one = (): string => {
    if (files.length !== 1) throw new UserError(`${files[0]}: format '${src.format}' takes one file, got ${files.length}`);
    return files[0]!;
  };
  const combo = `${src.kind}/${src.format}`;
  try {
    switch (combo) {
      case 'detection/coco':
        return openCoco(one(), { images: src.images, enrich: opts.enrich, textOverrides: opts.textOverrides });
      case 'detection/odvg':
      case 'grounding/odvg':
        return openOdvg(one(), { kind: src.kind as 'detection' | 'grounding', labelMap: src.labelMap, images: src.images, enrich: opts.enrich, textOverrides: opts.textOverrides });
      case 'imageText/pairs':
        return openPairs(one(), { images: src.images });
      case 'imageText/wds':
        return openWds(files);
      default:
        throw new UserError(`${files[0]}: format '${src.format}' cannot give ${src.kind} samples (coco: detection; odvg: detection, grounding; pairs, wds: imageText)`);
    }
  } catch (err) {
    if (err instanceof DataFileError) throw new UserError(err.message);
    throw err;
  }
}
