// N-API entry: tensor store, create/read/dispose/count, thread control.
#include "store.h"
#include <ATen/Parallel.h>
#include <cstring>

namespace detclip {

std::unordered_map<int64_t, at::Tensor>& store() {
  static std::unordered_map<int64_t, at::Tensor> s;
  return s;
}

static int64_t nextId = 1;

int64_t put(at::Tensor t) {
  int64_t id = nextId++;
  store().emplace(id, std::move(t));
  return id;
}

const at::Tensor& get(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "expected a tensor id (number)");
  int64_t id = v.As<Napi::Number>().Int64Value();
  auto it = store().find(id);
  if (it == store().end()) throw Napi::Error::New(env, "unknown tensor id " + std::to_string(id));
  return it->second;
}

std::vector<int64_t> toShape(const Napi::Value& v) {
  std::vector<int64_t> shape;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "shape must be an array");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    shape.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  }
  return shape;
}

static Napi::Value Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "create(Float32Array|Int32Array, shape)");
  }
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = toShape(info[1]);
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n != static_cast<int64_t>(ta.ElementLength())) {
    throw Napi::RangeError::New(env, "create: shape does not match data length");
  }
  at::ScalarType st;
  if (ta.TypedArrayType() == napi_float32_array) st = at::kFloat;
  else if (ta.TypedArrayType() == napi_int32_array) st = at::kInt;
  else throw Napi::TypeError::New(env, "create: only Float32Array and Int32Array are supported");
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
  auto buf = ta.ArrayBuffer();
  const uint8_t* src = static_cast<const uint8_t*>(buf.Data()) + ta.ByteOffset();
  if (n > 0) std::memcpy(t.data_ptr(), src, static_cast<size_t>(n) * 4);
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

static Napi::Value Read(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  at::Tensor t = get(env, info[0]).contiguous();
  int64_t n = t.numel();
  if (t.scalar_type() == at::kFloat) {
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(n));
    if (n > 0) std::memcpy(out.Data(), t.data_ptr(), static_cast<size_t>(n) * 4);
    return out;
  }
  if (t.scalar_type() == at::kInt) {
    auto out = Napi::Int32Array::New(env, static_cast<size_t>(n));
    if (n > 0) std::memcpy(out.Data(), t.data_ptr(), static_cast<size_t>(n) * 4);
    return out;
  }
  at::Tensor f = t.to(at::kFloat).contiguous();
  auto out = Napi::Float32Array::New(env, static_cast<size_t>(n));
  if (n > 0) std::memcpy(out.Data(), f.data_ptr(), static_cast<size_t>(n) * 4);
  return out;
}

static Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const at::Tensor& t = get(env, info[0]);
  auto arr = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
  return arr;
}

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  int64_t id = info[0].As<Napi::Number>().Int64Value();
  return Napi::Boolean::New(env, store().erase(id) > 0);
}

static Napi::Value Count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(store().size()));
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setThreads: n must be >= 1");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

static Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("count", Napi::Function::New(env, Count));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  registerOps(env, exports);
  return exports;
}

}  // namespace detclip

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return detclip::Init(env, exports); }

NODE_API_MODULE(detclip_torch, InitModule)
