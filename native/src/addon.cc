// N-API entry: tensor store, create/read/dispose/count, threads and build facts.
#include "store.h"
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>
#include <dlfcn.h>
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

at::Tensor opt(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return at::Tensor();
  return get(env, v);
}

std::vector<int64_t> ints(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of numbers");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

std::vector<at::Tensor> tensors(const Napi::Env& env, const Napi::Value& v) {
  std::vector<at::Tensor> out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of tensor ids");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(get(env, arr.Get(i)));
  return out;
}

at::ScalarType dtypeOf(const Napi::Value& v) {
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "float32") return at::kFloat;
  if (s == "int32") return at::kInt;
  if (s == "bool") return at::kBool;
  throw Napi::TypeError::New(v.Env(), "unsupported dtype " + s);
}

Napi::Value wrap(const Napi::Env& env, at::Tensor t, at::ScalarType st) {
  if (t.scalar_type() != st) t = t.to(st);
  if (!t.is_contiguous()) t = t.contiguous();
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

Napi::Value wrapAll(const Napi::Env& env, const std::vector<at::Tensor>& ts, at::ScalarType st) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(static_cast<uint32_t>(i), wrap(env, ts[i], st));
  return arr;
}

// create(Float32Array | Int32Array | Uint8Array(bool), shape) -> id (copies the data).
DC_FN(Create) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "create(typedArray, shape)");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = ints(info[1]);
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n != static_cast<int64_t>(ta.ElementLength())) throw Napi::RangeError::New(env, "create: shape does not match data length");
  at::ScalarType st;
  size_t width = 4;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: st = at::kFloat; break;
    case napi_int32_array: st = at::kInt; break;
    case napi_uint8_array: st = at::kBool; width = 1; break;
    default: throw Napi::TypeError::New(env, "create: Float32Array, Int32Array or Uint8Array only");
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (n > 0) {
    if (st == at::kBool) {
      auto* dst = static_cast<uint8_t*>(t.data_ptr());
      for (int64_t i = 0; i < n; i++) dst[i] = src[i] != 0;
    } else {
      std::memcpy(t.data_ptr(), src, static_cast<size_t>(n) * width);
    }
  }
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

// read(id) -> a copy: Float32Array (float), Int32Array (int), Uint8Array (bool).
DC_FN(Read) {
  auto env = info.Env();
  DC_TRY
  at::Tensor t = get(env, info[0]).contiguous();
  size_t n = static_cast<size_t>(t.numel());
  if (t.scalar_type() == at::kInt) {
    auto out = Napi::Int32Array::New(env, n);
    if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n * 4);
    return out;
  }
  if (t.scalar_type() == at::kBool) {
    auto out = Napi::Uint8Array::New(env, n);
    if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n);
    return out;
  }
  if (t.scalar_type() != at::kFloat) t = t.to(at::kFloat).contiguous();
  auto out = Napi::Float32Array::New(env, n);
  if (n > 0) std::memcpy(out.Data(), t.data_ptr(), n * 4);
  return out;
  DC_CATCH
}

DC_FN(Shape) {
  auto env = info.Env();
  const at::Tensor& t = get(env, info[0]);
  auto arr = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
  return arr;
}

DC_FN(Dispose) { return Napi::Boolean::New(info.Env(), store().erase(i64(info[0])) > 0); }
DC_FN(Count) { return Napi::Number::New(info.Env(), static_cast<double>(store().size())); }

// Bytes held by distinct storages (views share theirs).
DC_FN(Bytes) {
  std::unordered_map<const void*, size_t> seen;
  for (auto& kv : store()) {
    const auto& s = kv.second.storage();
    if (s) seen[s.unsafeGetStorageImpl()] = s.nbytes();
  }
  size_t total = 0;
  for (auto& kv : seen) total += kv.second;
  return Napi::Number::New(info.Env(), static_cast<double>(total));
}

using BlasSetThreads = void (*)(int);
using BlasGetConfig = char* (*)();

// setThreads(n): ATen intra-op threads, and OpenBLAS's when it is the BLAS loaded.
DC_FN(SetThreads) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setThreads: n must be >= 1");
  at::set_num_threads(n);
  if (auto f = reinterpret_cast<BlasSetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
  return info.Env().Undefined();
}

DC_FN(Info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torch", TORCH_VERSION);
  o.Set("threads", at::get_num_threads());
  auto cfg = reinterpret_cast<BlasGetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  o.Set("blas", cfg ? std::string(cfg()) : std::string("not OpenBLAS (reference BLAS is ~15x slower)"));
  o.Set("mkldnn", at::hasMKLDNN());
  o.Set("parallel", at::get_parallel_info());
  o.Set("allocator", "caching CPU allocator: " + cacheStats());
  return o;
}

DC_FN(Threads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

void registerDist(Napi::Env env, Napi::Object exports);  // dist.cc (c10d Gloo)

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  installCachingAllocator();
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("count", Napi::Function::New(env, Count));
  exports.Set("bytes", Napi::Function::New(env, Bytes));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("info", Napi::Function::New(env, Info));
  registerMath(env, exports);
  registerShape(env, exports);
  registerNN(env, exports);
  registerDist(env, exports);
  return exports;
}

}  // namespace detclip

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return detclip::Init(env, exports); }

NODE_API_MODULE(detclip_torch, InitModule)
