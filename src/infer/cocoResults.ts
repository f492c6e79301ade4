// The results file of `detclip detect`: COCO layout, so it names its images and categories. Each annotation is a
// COCO result record {image_id, category_id, bbox: [x, y, w, h], score} plus id/area/iscrowd, which makes the
// file a loadable COCO dataset too (e.g. pseudo-labels); `annotations` alone is a results list for eval-json.
import type { Detection } from './detectorCore.ts';

export interface CocoCategory { id: number; name: string }
export interface DetectedImage { file: string; width: number; height: number; detections: Detection[] }

export interface CocoDetectResults {
  info: Record<string, unknown>;
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: CocoCategory[];
  annotations: { id: number; image_id: number; category_id: number; bbox: [number, number, number, number]; area: number; score: number; iscrowd: 0 }[];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;      // 0.01 px
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Image ids are 1..n in input order; category ids are `categories[labelIndex].id`. */
export function cocoDetectResults(images: DetectedImage[], categories: CocoCategory[], info: Record<string, unknown> = {}): CocoDetectResults {
  const out: CocoDetectResults = {
    info: { description: 'detclip detect results', ...info },
    images: images.map((im, i) => ({ id: i + 1, file_name: im.file, width: im.width, height: im.height })),
    categories: categories.map((c) => ({ id: c.id, name: c.name })),
    annotations: [],
  };
  images.forEach((im, i) => {
    for (const d of im.detections) {
      const { xmin, ymin, xmax, ymax } = d.box;
      const w = r2(xmax - xmin);
      const h = r2(ymax - ymin);
      out.annotations.push({
        id: out.annotations.length + 1, image_id: i + 1, category_id: categories[d.labelIndex]!.id,
        bbox: [r2(xmin), r2(ymin), w, h], area: r2(w * h), score: r6(d.score), iscrowd: 0,
      });
    }
  });
  return out;
}
