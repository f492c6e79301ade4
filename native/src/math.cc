// Element-wise, reduction and softmax ops. Op names are the TF.js kernel names; the caller passes the
// TF.js output dtype and the result is cast to it (TF.js and ATen promote types differently).
#include "store.h"
#include <functional>

namespace detclip {
namespace {

using U = std::function<at::Tensor(const at::Tensor&)>;
using B = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;

const std::unordered_map<std::string, U>& unaryOps() {
  static const std::unordered_map<std::string, U> m = {
      {"Abs", [](const at::Tensor& x) { return at::abs(x); }},
      {"Neg", [](const at::Tensor& x) { return at::neg(x); }},
      {"Exp", [](const at::Tensor& x) { return at::exp(fl(x)); }},
      {"Expm1", [](const at::Tensor& x) { return at::expm1(fl(x)); }},
      {"Log", [](const at::Tensor& x) { return at::log(fl(x)); }},
      {"Log1p", [](const at::Tensor& x) { return at::log1p(fl(x)); }},
      {"Sqrt", [](const at::Tensor& x) { return at::sqrt(fl(x)); }},
      {"Rsqrt", [](const at::Tensor& x) { return at::rsqrt(fl(x)); }},
      {"Square", [](const at::Tensor& x) { return at::mul(x, x); }},
      {"Sigmoid", [](const at::Tensor& x) { return at::sigmoid(fl(x)); }},
      {"Tanh", [](const at::Tensor& x) { return at::tanh(fl(x)); }},
      {"Softplus", [](const at::Tensor& x) { return at::softplus(fl(x)); }},
      {"Erf", [](const at::Tensor& x) { return at::erf(fl(x)); }},
      {"Floor", [](const at::Tensor& x) { return at::floor(fl(x)); }},
      {"Ceil", [](const at::Tensor& x) { return at::ceil(fl(x)); }},
      {"Round", [](const at::Tensor& x) { return at::round(fl(x)); }},
      {"Sign", [](const at::Tensor& x) { return at::sign(x); }},
      {"Reciprocal", [](const at::Tensor& x) { return at::reciprocal(fl(x)); }},
      {"Sin", [](const at::Tensor& x) { return at::sin(fl(x)); }},
      {"Cos", [](const at::Tensor& x) { return at::cos(fl(x)); }},
      {"Relu", [](const at::Tensor& x) { return at::relu(x); }},
      {"Relu6", [](const at::Tensor& x) { return at::clamp(x, 0, 6); }},
      {"Elu", [](const at::Tensor& x) { return at::elu(fl(x)); }},
      {"Selu", [](const at::Tensor& x) { return at::selu(fl(x)); }},
      {"IsNan", [](const at::Tensor& x) { return at::isnan(x); }},
      {"IsInf", [](const at::Tensor& x) { return at::isinf(x); }},
      {"IsFinite", [](const at::Tensor& x) { return at::isfinite(x); }},
      {"LogicalNot", [](const at::Tensor& x) { return at::logical_not(x); }},
  };
  return m;
}

const std::unordered_map<std::string, B>& binaryOps() {
  static const std::unordered_map<std::string, B> m = {
      {"Add", [](const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }},
      {"Sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
      {"Multiply", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
      {"RealDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(fl(a), fl(b)); }},
      {"FloorDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); }},
      {"Maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }},
      {"Minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }},
      {"Pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }},
      {"SquaredDifference", [](const at::Tensor& a, const at::Tensor& b) { auto d = at::sub(a, b); return at::mul(d, d); }},
      {"Mod", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }},
      {"Atan2", [](const at::Tensor& a, const at::Tensor& b) { return at::atan2(fl(a), fl(b)); }},
      {"Equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
      {"NotEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }},
      {"Greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
      {"GreaterEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
      {"Less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
      {"LessEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
      {"LogicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
      {"LogicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
      {"Prelu", [](const at::Tensor& x, const at::Tensor& alpha) { return at::where(x < 0, at::mul(x, alpha), x); }},
  };
  return m;
}

template <typename M>
const typename M::mapped_type& lookup(const Napi::Env& env, const M& m, const Napi::Value& name) {
  auto it = m.find(name.As<Napi::String>().Utf8Value());
  if (it == m.end()) throw Napi::Error::New(env, "no native op " + name.As<Napi::String>().Utf8Value());
  return it->second;
}

// unary(x, op, dtype)
DC_FN(Unary) {
  auto env = info.Env();
  DC_TRY
  return wrap(env, lookup(env, unaryOps(), info[1])(get(env, info[0])), dtypeOf(info[2]));
  DC_CATCH
}

// binary(a, b, op, dtype)
DC_FN(Binary) {
  auto env = info.Env();
  DC_TRY
  return wrap(env, lookup(env, binaryOps(), info[2])(get(env, info[0]), get(env, info[1])), dtypeOf(info[3]));
  DC_CATCH
}

// unaryParam(x, op, a, b, dtype): Step(alpha), LeakyRelu(alpha), ClipByValue(min, max), Elu.
DC_FN(UnaryParam) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  std::string op = info[1].As<Napi::String>().Utf8Value();
  double a = num(info[2]), b = num(info[3]);
  at::Tensor y;
  if (op == "Step") {
    at::Tensor f = fl(x);
    y = at::where(at::isnan(f), f, at::where(f > 0, at::ones({}, f.options()), at::full({}, a, f.options())));
  } else if (op == "LeakyRelu") {
    y = at::where(x < 0, at::mul(fl(x), a), fl(x));
  } else if (op == "ClipByValue") {
    y = at::clamp(x, a, b);
  } else {
    throw Napi::Error::New(env, "no native op " + op);
  }
  return wrap(env, y, dtypeOf(info[4]));
  DC_CATCH
}

DC_FN(AddN) {
  auto env = info.Env();
  DC_TRY
  auto ts = tensors(env, info[0]);
  at::Tensor acc = ts.at(0).clone();
  for (size_t i = 1; i < ts.size(); i++) acc.add_(ts[i]);
  return wrap(env, acc, dtypeOf(info[1]));
  DC_CATCH
}

// select(condition, t, e, dtype): a rank-1 condition picks whole rows (TF.js Select).
DC_FN(Select) {
  auto env = info.Env();
  DC_TRY
  at::Tensor c = get(env, info[0]).to(at::kBool);
  const at::Tensor& t = get(env, info[1]);
  const at::Tensor& e = get(env, info[2]);
  if (c.dim() == 1 && t.dim() > 1) {
    std::vector<int64_t> s(static_cast<size_t>(t.dim()), 1);
    s[0] = c.size(0);
    c = c.reshape(s);
  }
  return wrap(env, at::where(c, t, e), dtypeOf(info[3]));
  DC_CATCH
}

DC_FN(Cast) {
  auto env = info.Env();
  DC_TRY
  return wrap(env, get(env, info[0]), dtypeOf(info[1]));
  DC_CATCH
}

DC_FN(Fill) {
  auto env = info.Env();
  DC_TRY
  auto st = dtypeOf(info[2]);
  return wrap(env, at::full(ints(info[0]), num(info[1]), at::TensorOptions().dtype(st)), st);
  DC_CATCH
}

// reduce(x, axes, keepDims, op, dtype): Sum, Mean, Max, Min, Prod, All, Any. Empty axes copy x.
DC_FN(Reduce) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  auto axes = ints(info[1]);
  bool keep = flag(info[2]);
  std::string op = info[3].As<Napi::String>().Utf8Value();
  auto st = dtypeOf(info[4]);
  if (axes.empty()) return wrap(env, x, st);
  at::Tensor y;
  if (op == "Sum") y = at::sum(x, axes, keep);
  else if (op == "Mean") y = at::mean(fl(x), axes, keep);
  else if (op == "Max") y = at::amax(x, axes, keep);
  else if (op == "Min") y = at::amin(x, axes, keep);
  else if (op == "Prod" || op == "All" || op == "Any") {
    std::sort(axes.begin(), axes.end(), std::greater<int64_t>());
    y = op == "Prod" ? x : x.to(at::kBool);
    for (auto d : axes) {
      if (op == "Prod") y = at::prod(y, d, keep);
      else if (op == "All") y = at::all(y, d, keep);
      else y = at::any(y, d, keep);
    }
  } else {
    throw Napi::Error::New(env, "no native reduction " + op);
  }
  return wrap(env, y, st);
  DC_CATCH
}

// argMinMax(x, axis, isMax) -> int32 indices (first occurrence on ties, as TF.js).
DC_FN(ArgMinMax) {
  auto env = info.Env();
  DC_TRY
  const at::Tensor& x = get(env, info[0]);
  int64_t axis = i64(info[1]);
  return wrap(env, flag(info[2]) ? at::argmax(x, axis) : at::argmin(x, axis), at::kInt);
  DC_CATCH
}

DC_FN(Softmax) {
  auto env = info.Env();
  DC_TRY
  return wrap(env, at::softmax(fl(get(env, info[0])), i64(info[1])), at::kFloat);
  DC_CATCH
}

// cumsum(x, axis, exclusive, reverse, dtype)
DC_FN(Cumsum) {
  auto env = info.Env();
  DC_TRY
  at::Tensor x = get(env, info[0]);
  int64_t axis = i64(info[1]);
  bool exclusive = flag(info[2]), reverse = flag(info[3]);
  if (reverse) x = at::flip(x, {axis});
  at::Tensor y = at::cumsum(x, axis);
  if (exclusive && x.size(axis) > 0) {
    auto zero = at::zeros_like(x.narrow(axis, 0, 1)).to(y.scalar_type());
    y = at::cat({zero, y.narrow(axis, 0, x.size(axis) - 1)}, axis);
  }
  if (reverse) y = at::flip(y, {axis});
  return wrap(env, y, dtypeOf(info[4]));
  DC_CATCH
}

}  // namespace

void registerMath(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unaryParam", Napi::Function::New(env, UnaryParam));
  exports.Set("addN", Napi::Function::New(env, AddN));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("cast", Napi::Function::New(env, Cast));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argMinMax", Napi::Function::New(env, ArgMinMax));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("cumsum", Napi::Function::New(env, Cumsum));
}

}  // namespace detclip
