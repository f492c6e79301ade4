// Converting torch state dicts to this project's layouts. The one layout difference is conv weights:
// torch stores OIHW, tfjs convs take HWIO. Linear weights stay [out, in] (see linear.ts).
export interface LayoutTensor { shape: number[]; data: Float32Array | Int32Array }

/** OIHW -> HWIO copy. */
export function oihwToHwio(t: LayoutTensor): { shape: number[]; data: Float32Array } {
  const [o, i, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(o * i * h * w);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + ii) * o + oo] = t.data[((oo * i + ii) * h + y) * w + x]!;
  return { shape: [h, w, i, o], data: out };
}

/**
 * A torch state dict (torchvision/mmdet names) in this project's layout: every 4-D tensor is a conv weight and
 * is converted OIHW -> HWIO; everything else passes through. Load the result with `ParamStore.load`.
 */
export function fromTorchStateDict<T extends LayoutTensor>(tensors: Map<string, T>): Map<string, LayoutTensor> {
  const out = new Map<string, LayoutTensor>();
  for (const [name, t] of tensors) out.set(name, t.shape.length === 4 ? oihwToHwio(t) : t);
  return out;
}

/** The inverse, for exporting checkpoints in torch layout. */
export function toTorchStateDict(tensors: Map<string, LayoutTensor>): Map<string, LayoutTensor> {
  const out = new Map<string, LayoutTensor>();
  for (const [name, t] of tensors) {
    if (t.shape.length !== 4) { out.set(name, t); continue; }
    const [h, w, i, o] = t.shape as [number, number, number, number];
    const data = new Float32Array(o * i * h * w);
    for (let oo = 0; oo < o; oo++)
      for (let ii = 0; ii < i; ii++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) data[((oo * i + ii) * h + y) * w + x] = t.data[((y * w + x) * i + ii) * o + oo]!;
    out.set(name, { shape: [o, i, h, w], data });
  }
  return out;
}
