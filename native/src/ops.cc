// Ops over stored tensors: each takes ids and returns a new id. Errors surface as JS exceptions.
#include "store.h"

namespace detclip {

namespace {

Napi::Value wrap(const Napi::Env& env, at::Tensor t) {
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

template <at::Tensor (*F)(const at::Tensor&, const at::Tensor&)>
Napi::Value Binary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    return wrap(env, F(get(env, info[0]), get(env, info[1])));
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

at::Tensor addF(const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }
at::Tensor subF(const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }
at::Tensor mulF(const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }
// TF.js RealDiv: true division (ints promote to float).
at::Tensor divF(const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }

template <at::Tensor (*F)(const at::Tensor&)>
Napi::Value Unary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    return wrap(env, F(get(env, info[0])));
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

at::Tensor reluF(const at::Tensor& a) { return at::relu(a); }
at::Tensor expF(const at::Tensor& a) { return at::exp(a); }
at::Tensor logF(const at::Tensor& a) { return at::log(a); }
at::Tensor sigmoidF(const at::Tensor& a) { return at::sigmoid(a); }
at::Tensor toFloatF(const at::Tensor& a) { return a.to(at::kFloat).contiguous(); }
at::Tensor cloneF(const at::Tensor& a) { return a.clone(); }

bool flag(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsBoolean() && info[i].As<Napi::Boolean>().Value();
}

// matmul(a, b, transposeA, transposeB): 2-D or batched (rank >= 2, batch dims broadcast).
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    at::Tensor a = get(env, info[0]);
    at::Tensor b = get(env, info[1]);
    if (a.dim() < 2 || b.dim() < 2) throw Napi::Error::New(env, "matmul: inputs must be rank >= 2");
    if (flag(info, 2)) a = a.transpose(-2, -1);
    if (flag(info, 3)) b = b.transpose(-2, -1);
    return wrap(env, at::matmul(a, b).contiguous());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

// sum(a, axes, keepDims). Empty axes = identity copy. Int32 sums stay int32 (TF.js semantics).
Napi::Value Sum(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    const at::Tensor& a = get(env, info[0]);
    auto axes = toShape(info[1]);
    bool keep = flag(info, 2);
    if (axes.empty()) return wrap(env, a.clone());
    at::Tensor r = at::sum(a, axes, keep, a.scalar_type());
    return wrap(env, r.contiguous());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

Napi::Value Reshape(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  try {
    const at::Tensor& a = get(env, info[0]);
    return wrap(env, a.reshape(toShape(info[1])).contiguous().clone());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  }
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  exports.Set("add", Napi::Function::New(env, Binary<addF>));
  exports.Set("sub", Napi::Function::New(env, Binary<subF>));
  exports.Set("mul", Napi::Function::New(env, Binary<mulF>));
  exports.Set("div", Napi::Function::New(env, Binary<divF>));
  exports.Set("matmul", Napi::Function::New(env, MatMul));
  exports.Set("batchMatMul", Napi::Function::New(env, MatMul));
  exports.Set("relu", Napi::Function::New(env, Unary<reluF>));
  exports.Set("exp", Napi::Function::New(env, Unary<expF>));
  exports.Set("log", Napi::Function::New(env, Unary<logF>));
  exports.Set("sigmoid", Napi::Function::New(env, Unary<sigmoidF>));
  exports.Set("toFloat", Napi::Function::New(env, Unary<toFloatF>));
  exports.Set("clone", Napi::Function::New(env, Unary<cloneF>));
  exports.Set("sum", Napi::Function::New(env, Sum));
  exports.Set("reshape", Napi::Function::New(env, Reshape));
}

}  // namespace detclip
