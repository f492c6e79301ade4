// The public library API of detclip (`import { ... } from 'detclip'`). Everything not exported here is internal.

// Detection with any vocabulary
export { createDetector, Detector, inferenceSettings } from './infer/detector.ts';
export type {
  CreateDetectorOptions, Detection, DetectOptions, ImageDetections, ImageInput, RawImage, InferenceSettings, CategoryLike,
} from './infer/detector.ts';
export { vocabularyFromList, vocabularyFromFile, type VocabCategory } from './infer/vocabulary.ts';

// Evaluation: COCO AP, LVIS AP, LVIS fixed AP, on files or objects; a detector on a COCO/LVIS file
export * from './eval/index.ts';
export { evaluateDetector, type DetectorEvalOptions, type DetectorEvalResult, type EvalProtocol } from './eval/evaluateDetector.ts';

// Data readers: unified (image, boxes, concepts) triplets
export { openCoco, type CocoReaderOptions } from './data/cocoReader.ts';
export { openOdvg, type OdvgReaderOptions } from './data/odvgReader.ts';
export { openPairs, type PairsReaderOptions } from './data/pairsReader.ts';
export { openWds } from './data/wdsReader.ts';
export type { Sample, SampleKind, SampleSource } from './data/types.ts';

// Config presets and the trainer entry point
export { MODEL_PRESETS, MODEL_PRESET_NAMES, resolveModelConfig, type ModelConfig } from './config/model.ts';
export { resolveRecipe } from './train/recipe.ts';
export { trainDetClip, type TrainDetClipOptions, type TrainDetClipResult } from './train/trainDetClip.ts';

// Engines and errors
export { initBackend, type BackendName } from './backend/index.ts';
export { DetclipError, UserError, isDetclipError } from './errors.ts';
