// Layout ops: views where ATen gives them for free (reshape), contiguous copies otherwise, plus gathers and
// scatters. Stored tensors are never written in place, so a view may share its base's storage.
#include "store.h"

namespace detclip {
namespace {

at::ScalarType same(const at::Tensor& t) { return t.scalar_type(); }

DC_FN(Reshape) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrap(env, x.reshape(ints(info[1])), same(x));
  DC_CATCH
}

DC_FN(Transpose) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrap(env, x.permute(ints(info[1])), same(x));
  DC_CATCH
}

// slice(x, begin, size): size already resolved (no -1).
DC_FN(Slice) {
  auto env = info.Env();
  DC_TRY
  at::Tensor x = get(env, info[0]);
  auto begin = ints(info[1]), size = ints(info[2]);
  for (size_t d = 0; d < begin.size(); d++) x = x.narrow(static_cast<int64_t>(d), begin[d], size[d]);
  return wrap(env, x, same(x));
  DC_CATCH
}

// stridedSlice(x, begin, end, strides, outShape): positive strides, dense per-dimension ranges.
DC_FN(StridedSlice) {
  auto env = info.Env();
  DC_TRY
  at::Tensor x = get(env, info[0]);
  auto begin = ints(info[1]), end = ints(info[2]), strides = ints(info[3]);
  for (size_t d = 0; d < begin.size(); d++) {
    int64_t e = std::max(end[d], begin[d]);
    x = x.slice(static_cast<int64_t>(d), begin[d], e, strides[d]);
  }
  return wrap(env, x.reshape(ints(info[4])), same(x));
  DC_CATCH
}

DC_FN(Concat) {
  auto env = info.Env();
  DC_TRY
  auto ts = tensors(env, info[0]);
  return wrap(env, at::cat(ts, i64(info[1])), dtypeOf(info[2]));
  DC_CATCH
}

DC_FN(Stack) {
  auto env = info.Env();
  DC_TRY
  auto ts = tensors(env, info[0]);
  return wrap(env, at::stack(ts, i64(info[1])), dtypeOf(info[2]));
  DC_CATCH
}

DC_FN(Unstack) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrapAll(env, at::unbind(x, i64(info[1])), same(x));
  DC_CATCH
}

DC_FN(SplitV) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrapAll(env, at::split_with_sizes(x, ints(info[1]), i64(info[2])), same(x));
  DC_CATCH
}

// pad(x, [b0, a0, b1, a1, ...], value)
DC_FN(Pad) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  auto p = ints(info[1]);
  std::vector<int64_t> rev;
  for (int64_t d = x.dim() - 1; d >= 0; d--) {
    rev.push_back(p[2 * d]);
    rev.push_back(p[2 * d + 1]);
  }
  return wrap(env, at::constant_pad_nd(x, rev, num(info[2])), same(x));
  DC_CATCH
}

DC_FN(Tile) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrap(env, x.repeat(ints(info[1])), same(x));
  DC_CATCH
}

DC_FN(Reverse) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  return wrap(env, at::flip(x, ints(info[1])), same(x));
  DC_CATCH
}

// gather(x, indices, axis, outShape): batchDims 0. Out-of-range indices are an error, as in TF.js.
DC_FN(Gather) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  at::Tensor idx = get(env, info[1]).reshape({-1}).to(at::kLong);
  return wrap(env, at::index_select(x, i64(info[2]), idx).reshape(ints(info[3])), same(x));
  DC_CATCH
}

// Rows of `out` [R, rest] summed from updates [N, rest] at row ids [N]; ids outside [0, R) are dropped.
at::Tensor rowScatterAdd(at::Tensor ids, const at::Tensor& updates, int64_t rows) {
  at::Tensor flat = updates.reshape({ids.numel(), -1});
  ids = ids.reshape({-1}).to(at::kLong);
  at::Tensor ok = (ids >= 0).logical_and_(ids < rows);
  if (!ok.all().item<bool>()) {
    flat = flat.index({ok});
    ids = ids.index({ok});
  }
  at::Tensor out = at::zeros({rows, flat.size(1)}, flat.options());
  return out.index_add_(0, ids, flat);
}

// scatterNd(indices [N, K], updates [N, ...], shape): duplicates sum (TF.js ScatterNd).
DC_FN(ScatterNd) {
  auto env = info.Env();
  DC_TRY
  at::Tensor indices = get(env, info[0]).to(at::kLong);
  const at::Tensor& updates = get(env, info[1]);
  auto shape = ints(info[2]);
  int64_t k = indices.size(-1);
  indices = indices.reshape({-1, k});
  std::vector<int64_t> strides(static_cast<size_t>(k), 1);
  int64_t rows = 1;
  for (int64_t d = k - 1; d >= 0; d--) {
    strides[static_cast<size_t>(d)] = rows;
    rows *= shape[static_cast<size_t>(d)];
  }
  at::Tensor lin = (indices * at::tensor(strides, at::kLong)).sum(1);
  at::Tensor out = rowScatterAdd(lin, updates, rows);
  return wrap(env, out.reshape(shape), same(updates));
  DC_CATCH
}

// unsortedSegmentSum(x, ids, numSegments): out [numSegments, ...x.shape[ids.rank:]].
DC_FN(UnsortedSegmentSum) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  const at::Tensor& ids = get(env, info[1]);
  int64_t n = i64(info[2]);
  std::vector<int64_t> outShape{n};
  for (int64_t d = ids.dim(); d < x.dim(); d++) outShape.push_back(x.size(d));
  return wrap(env, rowScatterAdd(ids, x, n).reshape(outShape), same(x));
  DC_CATCH
}

// sparseSegmentSum(data, indices, segmentIds, mean): rows = last segment id + 1 (TF semantics).
DC_FN(SparseSegmentReduce) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& data = get(env, info[0]);
  at::Tensor indices = get(env, info[1]).to(at::kLong);
  at::Tensor seg = get(env, info[2]).to(at::kLong);
  bool mean = flag(info[3]);
  int64_t rows = seg.numel() > 0 ? seg[-1].item<int64_t>() + 1 : 0;
  at::Tensor gathered = at::index_select(data, 0, indices);
  std::vector<int64_t> outShape{rows};
  for (int64_t d = 1; d < data.dim(); d++) outShape.push_back(data.size(d));
  at::Tensor out = rowScatterAdd(seg, gathered, rows);
  if (mean) {
    at::Tensor counts = at::zeros({rows}, data.options()).index_add_(0, seg, at::ones({seg.numel()}, data.options()));
    out = out / counts.clamp_min(1).unsqueeze(1);
  }
  return wrap(env, out.reshape(outShape), same(data));
  DC_CATCH
}

// oneHot(indices, depth, on, off, dtype): out-of-range indices give an all-off row.
DC_FN(OneHot) {
  auto env = info.Env();
  DC_TRY
  at::Tensor idx = get(env, info[0]).to(at::kLong);
  int64_t depth = i64(info[1]);
  double on = num(info[2]), off = num(info[3]);
  at::Tensor ok = (idx >= 0).logical_and_(idx < depth);
  at::Tensor oh = at::one_hot(idx.clamp(0, std::max<int64_t>(depth - 1, 0)), depth).to(at::kBool).logical_and(ok.unsqueeze(-1));
  at::Tensor y = at::where(oh, at::full({}, on, at::kFloat), at::full({}, off, at::kFloat));
  return wrap(env, y, dtypeOf(info[4]));
  DC_CATCH
}

}  // namespace

void registerShape(Napi::Env env, Napi::Object exports) {
  exports.Set("reshape", Napi::Function::New(env, Reshape));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("stridedSlice", Napi::Function::New(env, StridedSlice));
  exports.Set("concat", Napi::Function::New(env, Concat));
  exports.Set("stack", Napi::Function::New(env, Stack));
  exports.Set("unstack", Napi::Function::New(env, Unstack));
  exports.Set("splitV", Napi::Function::New(env, SplitV));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("tile", Napi::Function::New(env, Tile));
  exports.Set("reverse", Napi::Function::New(env, Reverse));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("scatterNd", Napi::Function::New(env, ScatterNd));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, UnsortedSegmentSum));
  exports.Set("sparseSegmentReduce", Napi::Function::New(env, SparseSegmentReduce));
  exports.Set("oneHot", Napi::Function::New(env, OneHot));
}

}  // namespace detclip
