// Averages as the references compute them: np.mean(s[s > -1]) over a slice of the precision/recall arrays, summed
// the way numpy 1.24's add.reduce does (pairwise within buffers of 8192 elements, buffers added in turn), so the
// last digits agree too (the golden fixtures match bit for bit); -1 when nothing in the slice is defined.

/** numpy's pairwise_sum for float64 (8-way unrolled blocks of up to 128, halves above that). */
export function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j]!;
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** numpy's ufunc buffer size: a 1-D reduction reaches the pairwise loop in chunks of this many elements. */
const NUMPY_BUFSIZE = 8192;

/** np.sum of a float64 vector, bit for bit as numpy 1.24 computes it. */
export function numpySum(a: ArrayLike<number>, n = a.length): number {
  let total = 0;
  for (let s = 0; s < n; s += NUMPY_BUFSIZE) total += pairwiseSum(a, s, Math.min(NUMPY_BUFSIZE, n - s));
  return total;
}

/** Mean of the values > -1 (np.mean(s[s > -1])), or -1 when there are none. */
export function meanDefined(values: ArrayLike<number>, n = values.length): number {
  const kept = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (values[i]! > -1) kept[k++] = values[i]!;
  return k === 0 ? -1 : numpySum(kept, k) / k;
}

/**
 * Gathers data[i0, i1, ...] for every combination of the index lists, in C order (as numpy indexing with
 * slices and lists lays them out), then takes meanDefined. `select[d]` lists the indices kept on axis d.
 */
export function meanOverSlice(data: Float64Array, shape: readonly number[], select: readonly (readonly number[])[]): number {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  // Offsets contributed by each axis's selected indices. Trailing single-index axes fold into a constant offset,
  // so the innermost loop runs over the last axis that selects several indices.
  const offs = select.map((idx, d) => idx.map((i) => i * strides[d]!));
  let total = 1;
  for (const o of offs) total *= o.length;
  if (total === 0) return -1;
  let fixed = 0;
  let D = offs.length;
  while (D > 1 && offs[D - 1]!.length === 1) fixed += offs[--D]![0]!;
  const out = new Float64Array(total);
  const inner = offs[D - 1]!;
  const counter = new Array<number>(D - 1).fill(0);
  let k = 0;
  for (;;) {
    let base = fixed;
    for (let d = 0; d < D - 1; d++) base += offs[d]![counter[d]!]!;
    for (let j = 0; j < inner.length; j++) out[k++] = data[base + inner[j]!]!;
    let d = D - 2;
    while (d >= 0 && ++counter[d]! === offs[d]!.length) counter[d--] = 0;
    if (d < 0) break;
  }
  return meanDefined(out, total);
}

/** [0, 1, ..., n-1]. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
