// The COCO / LVIS JSON records the evaluators take, as plain in-memory objects (the files' own shapes).

/** A ground-truth image. LVIS images also carry their federated category lists. */
export interface CocoImage {
  id: number;
  width?: number;
  height?: number;
  file_name?: string;
  /** LVIS: categories verified absent from the image (detections on them are false positives). */
  neg_category_ids?: number[];
  /** LVIS: categories present but not exhaustively annotated (unmatched detections on them are ignored). */
  not_exhaustive_category_ids?: number[];
  [key: string]: unknown;
}

/** A ground-truth box. `bbox` is [x, y, w, h]; `area` (not w*h) picks the area range, as the references do. */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  area: number;
  /** COCO: crowd regions are ignored and may match many detections. LVIS ignores this field. */
  iscrowd?: number | boolean;
  /** LVIS: an annotation to ignore (lvis-api honours it; pycocotools overwrites it with iscrowd). */
  ignore?: number | boolean;
  [key: string]: unknown;
}

/** A category. LVIS categories carry `frequency`: r(are), c(ommon) or f(requent). */
export interface CocoCategory {
  id: number;
  name?: string;
  frequency?: 'r' | 'c' | 'f';
  [key: string]: unknown;
}

/** A COCO or LVIS ground-truth dataset. */
export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  [key: string]: unknown;
}

/** One detection of the standard results list; `bbox` is [x, y, w, h] in image pixels. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
  [key: string]: unknown;
}

/** What every evaluator returns: summary statistics in the reference tool's order, and optionally AP per category name. */
export interface EvalResult {
  stats: Record<string, number>;
  perCategory?: Record<string, number>;
}
