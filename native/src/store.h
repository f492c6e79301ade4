// Shared by the addon's translation units: the tensor store (int64 id -> at::Tensor) and argument helpers.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace detclip {

std::unordered_map<int64_t, at::Tensor>& store();
int64_t put(at::Tensor t);
const at::Tensor& get(const Napi::Env& env, const Napi::Value& v);
/** An optional tensor argument: null/undefined -> undefined tensor. */
at::Tensor opt(const Napi::Env& env, const Napi::Value& v);
std::vector<int64_t> ints(const Napi::Value& v);
std::vector<at::Tensor> tensors(const Napi::Env& env, const Napi::Value& v);
/** TF.js dtype name -> ATen scalar type ('float32' | 'int32' | 'bool'). */
at::ScalarType dtypeOf(const Napi::Value& v);
/** Casts to `st` when needed, makes contiguous, stores; returns the id. */
Napi::Value wrap(const Napi::Env& env, at::Tensor t, at::ScalarType st);
Napi::Value wrapAll(const Napi::Env& env, const std::vector<at::Tensor>& ts, at::ScalarType st);
inline at::Tensor fl(const at::Tensor& t) { return t.is_floating_point() ? t : t.to(at::kFloat); }
inline double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
inline int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
inline bool flag(const Napi::Value& v) { return v.IsBoolean() && v.As<Napi::Boolean>().Value(); }

void installCachingAllocator();
std::string cacheStats();
void registerMath(Napi::Env env, Napi::Object exports);
void registerShape(Napi::Env env, Napi::Object exports);
void registerNN(Napi::Env env, Napi::Object exports);

}  // namespace detclip

// Every exported op body runs inside these, so libtorch errors reach JS as one-line exceptions.
#define DC_TRY try {
#define DC_CATCH                                                                          \
  }                                                                                       \
  catch (const c10::Error& e) {                                                           \
    throw Napi::Error::New(info.Env(), std::string("libtorch: ") + e.what_without_backtrace()); \
  }                                                                                       \
  catch (const Napi::Error&) {                                                            \
    throw;                                                                                \
  }                                                                                       \
  catch (const std::exception& e) {                                                       \
    throw Napi::Error::New(info.Env(), std::string("native: ") + e.what());              \
  }
#define DC_FN(name) static Napi::Value name(const Napi::CallbackInfo& info)
