// Convolutions (NHWC in TF.js, run as channels-last NCHW views: no transposing copies of activations),
// matmul with fused bias/activation, pooling, nearest resize, einsum and the fused AdamW step.
#include "store.h"
#include <ATen/Parallel.h>
#include <cmath>

namespace detclip {
namespace {

// NHWC tensor -> NCHW view whose memory is channels-last (what oneDNN wants).
at::Tensor nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
at::Tensor nhwc(const at::Tensor& x) { return x.permute({0, 2, 3, 1}); }
// TF.js filter HWIO [kh, kw, in, out] -> OIHW.
at::Tensor oihw(const at::Tensor& w) { return w.permute({3, 2, 0, 1}).contiguous(at::MemoryFormat::ChannelsLast); }

struct Geometry {
  std::vector<int64_t> stride, dilation, pad;  // pad: top, bottom, left, right
  int64_t groups;
  bool symmetric() const { return pad[0] == pad[1] && pad[2] == pad[3]; }
  std::vector<int64_t> torchPad() const { return symmetric() ? std::vector<int64_t>{pad[0], pad[2]} : std::vector<int64_t>{0, 0}; }
};

// args from index i: stride [2], dilation [2], pad [4], groups
Geometry geometry(const Napi::CallbackInfo& info, size_t i) {
  return Geometry{ints(info[i]), ints(info[i + 1]), ints(info[i + 2]), i64(info[i + 3])};
}

// Pads an NCHW input explicitly when TF's padding is asymmetric (SAME with even totals).
at::Tensor padInput(const at::Tensor& x, const Geometry& g, double value = 0) {
  if (g.symmetric()) return x;
  return at::constant_pad_nd(x, {g.pad[2], g.pad[3], g.pad[0], g.pad[1]}, value);
}

at::Tensor activate(const at::Tensor& y, const std::string& act, double alpha, const at::Tensor& prelu) {
  if (act.empty() || act == "linear") return y;
  if (act == "relu") return at::relu(y);
  if (act == "relu6") return at::clamp(y, 0, 6);
  if (act == "elu") return at::elu(y);
  if (act == "sigmoid") return at::sigmoid(y);
  if (act == "leakyrelu") return at::where(y < 0, y * alpha, y);
  if (act == "prelu") return at::where(y < 0, y * prelu, y);
  throw std::runtime_error("unknown fused activation " + act);
}

// conv2d(x NHWC, w HWIO, bias|null, stride, dilation, pad[4], groups, activation, alpha, prelu|null) -> NHWC.
// Depthwise callers pass w reshaped to [kh, kw, 1, C*M] and groups = C.
DC_FN(Conv2d) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  const at::Tensor& w = get(env, info[1]);
  at::Tensor bias = opt(env, info[2]);
  Geometry g = geometry(info, 3);
  std::string act = info[7].As<Napi::String>().Utf8Value();
  at::Tensor prelu = opt(env, info[9]);
  bool biasInConv = bias.defined() && bias.dim() == 1 && bias.size(0) == w.size(3);
  at::Tensor y = at::convolution(padInput(nchw(x), g), oihw(w), biasInConv ? bias : at::Tensor(), g.stride, g.torchPad(),
                                 g.dilation, false, {0, 0}, g.groups);
  y = nhwc(y);
  if (bias.defined() && !biasInConv) y = y + bias;
  return wrap(env, activate(y, act, num(info[8]), prelu), at::kFloat);
  DC_CATCH
}

// conv2dBackpropInput(dy NHWC, w HWIO, inputShape NHWC, stride, dilation, pad[4], groups) -> dx NHWC.
DC_FN(Conv2dBackpropInput) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& dy = get(env, info[0]);
  const at::Tensor& w = get(env, info[1]);
  auto in = ints(info[2]);
  Geometry g = geometry(info, 3);
  int64_t ph = g.symmetric() ? 0 : g.pad[0] + g.pad[1], pw = g.symmetric() ? 0 : g.pad[2] + g.pad[3];
  at::Tensor shapeOnly = at::empty({in[0], in[3], in[1] + ph, in[2] + pw}, dy.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nchw(dy), shapeOnly, oihw(w), c10::nullopt, g.stride, g.torchPad(), g.dilation,
                                        false, {0, 0}, g.groups, {true, false, false});
  at::Tensor dx = std::get<0>(grads);
  if (!g.symmetric()) dx = dx.narrow(2, g.pad[0], in[1]).narrow(3, g.pad[2], in[2]);
  return wrap(env, nhwc(dx), at::kFloat);
  DC_CATCH
}

// conv2dBackpropFilter(x NHWC, dy NHWC, filterShape HWIO, stride, dilation, pad[4], groups) -> dW HWIO.
DC_FN(Conv2dBackpropFilter) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  const at::Tensor& dy = get(env, info[1]);
  auto fs = ints(info[2]);
  Geometry g = geometry(info, 3);
  at::Tensor shapeOnly = at::empty({fs[3], fs[2], fs[0], fs[1]}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nchw(dy), padInput(nchw(x), g), shapeOnly, c10::nullopt, g.stride, g.torchPad(),
                                        g.dilation, false, {0, 0}, g.groups, {false, true, false});
  return wrap(env, std::get<1>(grads).permute({2, 3, 1, 0}), at::kFloat);
  DC_CATCH
}

// matmul(a, b, transposeA, transposeB, bias|null, activation, alpha, prelu|null); batch dims broadcast.
DC_FN(MatMul) {
  auto env = info.Env();
  DC_TRY
  at::Tensor a = get(env, info[0]);
  at::Tensor b = get(env, info[1]);
  bool ta = flag(info[2]);
  if (ta) a = a.transpose(-2, -1);
  if (flag(info[3])) b = b.transpose(-2, -1);
  a = fl(a);
  b = fl(b);
  // TF.js hands every matmul over as rank 3. With one shared right operand, fold the batch into rows and
  // call mm (one BLAS gemm); ATen's bmm path is ~3x slower for batch 1.
  at::Tensor y;
  int64_t bBatch = b.numel() / (b.size(-1) * b.size(-2));
  int64_t aBatch = a.numel() / std::max<int64_t>(1, a.size(-1) * a.size(-2));
  if (bBatch == 1 && (aBatch == 1 || !ta) && a.numel() > 0) {
    std::vector<int64_t> outShape(a.sizes().begin(), a.sizes().end() - 1);
    outShape.push_back(b.size(-1));
    if (b.dim() > a.dim()) outShape.insert(outShape.begin(), b.dim() - a.dim(), 1);
    y = at::mm(a.reshape({-1, a.size(-1)}), b.reshape({b.size(-2), b.size(-1)})).reshape(outShape);
  } else {
    y = at::matmul(a, b);
  }
  at::Tensor bias = opt(env, info[4]);
  if (bias.defined()) y = y + bias;
  std::string act = info.Length() > 5 ? info[5].As<Napi::String>().Utf8Value() : "";
  return wrap(env, activate(y, act, info.Length() > 6 ? num(info[6]) : 0, info.Length() > 7 ? opt(env, info[7]) : at::Tensor()), at::kFloat);
  DC_CATCH
}

// maxPool(x NHWC, kernel [2], stride, dilation, pad[4]) -> NHWC. Padding counts as -inf (TF 'SAME').
DC_FN(MaxPool) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  auto k = ints(info[1]);
  Geometry g{ints(info[2]), ints(info[3]), ints(info[4]), 1};
  bool explicitPad = !g.symmetric() || g.pad[0] * 2 > k[0] || g.pad[2] * 2 > k[1];
  at::Tensor xn = explicitPad ? at::constant_pad_nd(nchw(x), {g.pad[2], g.pad[3], g.pad[0], g.pad[1]}, -INFINITY) : nchw(x);
  std::vector<int64_t> pad = explicitPad ? std::vector<int64_t>{0, 0} : g.torchPad();
  return wrap(env, nhwc(at::max_pool2d(xn, k, g.stride, pad, g.dilation)), at::kFloat);
  DC_CATCH
}

// maxPoolGrad(dy, x, kernel, stride, dilation, pad[4]) -> dx NHWC (the max's first position gets dy).
DC_FN(MaxPoolGrad) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& dy = get(env, info[0]);
  const at::Tensor& x = get(env, info[1]);
  auto k = ints(info[2]);
  Geometry g{ints(info[3]), ints(info[4]), ints(info[5]), 1};
  bool explicitPad = !g.symmetric() || g.pad[0] * 2 > k[0] || g.pad[2] * 2 > k[1];
  at::Tensor xn = explicitPad ? at::constant_pad_nd(nchw(x), {g.pad[2], g.pad[3], g.pad[0], g.pad[1]}, -INFINITY) : nchw(x);
  std::vector<int64_t> pad = explicitPad ? std::vector<int64_t>{0, 0} : g.torchPad();
  auto fwd = at::max_pool2d_with_indices(xn, k, g.stride, pad, g.dilation);
  at::Tensor dx = at::max_pool2d_with_indices_backward(nchw(dy), xn, k, g.stride, pad, g.dilation, false, std::get<1>(fwd));
  if (explicitPad) dx = dx.narrow(2, g.pad[0], x.size(1)).narrow(3, g.pad[2], x.size(2));
  return wrap(env, nhwc(dx), at::kFloat);
  DC_CATCH
}

// resizeNearest(x NHWC, outH, outW, halfPixelCenters) -> NHWC (alignCorners=false).
DC_FN(ResizeNearest) {
  auto env = info.Env();
  DC_TRY
  at::Tensor x = fl(get(env, info[0]));
  std::vector<int64_t> size{i64(info[1]), i64(info[2])};
  at::Tensor y = flag(info[3]) ? at::_upsample_nearest_exact2d(nchw(x), size) : at::upsample_nearest2d(nchw(x), size);
  return wrap(env, nhwc(y), get(env, info[0]).scalar_type());
  DC_CATCH
}

// resizeNearestGrad(dy NHWC, inH, inW, halfPixelCenters) -> dx NHWC.
DC_FN(ResizeNearestGrad) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& dy = get(env, info[0]);
  std::vector<int64_t> out{dy.size(1), dy.size(2)};
  std::vector<int64_t> in{dy.size(0), dy.size(3), i64(info[1]), i64(info[2])};
  at::Tensor dx = flag(info[3]) ? at::_upsample_nearest_exact2d_backward(nchw(dy), out, in)
                                : at::upsample_nearest2d_backward(nchw(dy), out, in);
  return wrap(env, nhwc(dx), at::kFloat);
  DC_CATCH
}

DC_FN(Einsum) {
  auto env = info.Env();
  DC_TRY
  return wrap(env, at::einsum(info[0].As<Napi::String>().Utf8Value(), tensors(env, info[1])), at::kFloat);
  DC_CATCH
}

// batchNorm(x, mean, variance, offset|null, scale|null, eps): broadcasting over the last axes (TF.js).
DC_FN(BatchNorm) {
  auto env = info.Env();
  DC_TRY
  at::Tensor y = (get(env, info[0]) - get(env, info[1])) * at::rsqrt(get(env, info[2]) + num(info[5]));
  at::Tensor scale = opt(env, info[4]), offset = opt(env, info[3]);
  if (scale.defined()) y = y * scale;
  if (offset.defined()) y = y + offset;
  return wrap(env, y, at::kFloat);
  DC_CATCH
}

// adamw(p, g, m, v, beta1, beta2, eps, decayFactor, stepSize, bc2Sqrt) -> [p', m', v'] (new tensors), one fused
// pass over the four inputs in float (torch.optim.AdamW's arithmetic):
//   m' = b1 m + (1-b1) g;  v' = b2 v + (1-b2) g²;  p' = p (1 - lr wd) - stepSize m' / (√v' / bc2Sqrt + eps)
DC_FN(AdamW) {
  auto env = info.Env();
  DC_TRY
  at::Tensor p = get(env, info[0]).contiguous(), g = get(env, info[1]).contiguous();
  at::Tensor m = get(env, info[2]).contiguous(), v = get(env, info[3]).contiguous();
  const double b1 = num(info[4]), b2 = num(info[5]), eps = num(info[6]), decay = num(info[7]), step = num(info[8]), bc2 = num(info[9]);
  at::Tensor p2 = at::empty_like(p), m2 = at::empty_like(m), v2 = at::empty_like(v);
  const float *pp = p.data_ptr<float>(), *gp = g.data_ptr<float>(), *mp = m.data_ptr<float>(), *vp = v.data_ptr<float>();
  float *po = p2.data_ptr<float>(), *mo = m2.data_ptr<float>(), *vo = v2.data_ptr<float>();
  const float fb1 = b1, fb2 = b2, c1 = 1 - b1, c2 = 1 - b2, fdecay = decay, fstep = step, rbc2 = 1 / bc2, feps = eps;
  at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {  // float, vectorised (built with -fno-math-errno)
      const float gi = gp[i];
      const float mi = fb1 * mp[i] + c1 * gi;
      const float vi = fb2 * vp[i] + c2 * gi * gi;
      mo[i] = mi;
      vo[i] = vi;
      po[i] = pp[i] * fdecay - (fstep * mi) / (std::sqrt(vi) * rbc2 + feps);
    }
  });
  return wrapAll(env, {p2, m2, v2}, at::kFloat);
  DC_CATCH
}

}  // namespace

void registerNN(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("matmul", Napi::Function::New(env, MatMul));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("resizeNearest", Napi::Function::New(env, ResizeNearest));
  exports.Set("resizeNearestGrad", Napi::Function::New(env, ResizeNearestGrad));
  exports.Set("einsum", Napi::Function::New(env, Einsum));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
}

}  // namespace detclip
