// The evaluation library: COCO AP, LVIS AP and LVIS fixed AP, identical to pycocotools and lvis-api.
export type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage, CocoResult, EvalResult } from './types.ts';
export { evaluateCoco, evaluateCocoPrepared, cocoStatKeys, type CocoEvalOptions } from './cocoEval.ts';
export { evaluateLvis, evaluateLvisPrepared, lvisStatKeys, type LvisEvalOptions } from './lvisEval.ts';
export { evaluateLvisFixed, evaluateLvisFixedPrepared, type LvisFixedOptions } from './fixedAp.ts';
export { prepareGroundTruth, prepareDetections, type GroundTruth, type Detections, type Protocol } from './prepare.ts';
export { loadGroundTruthFile, loadDetectionsFile, readJsonFile } from './loadJson.ts';
export { COCO_MAX_DETS, LVIS_MAX_DETS, FIXED_AP_TOP_PER_CATEGORY } from './params.ts';
