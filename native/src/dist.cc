// Distributed data parallelism on PyTorch's c10d: a TCPStore rendezvous (rank 0 hosts it) and one
// ProcessGroupGloo per process. Collectives are synchronous: the JS thread waits while Gloo's threads move the
// bytes (training is synchronous anyway, and the loss reductions run inside a taped function).
#if __has_include(<gloo/algorithm.h>)  // libgloo-dev: without its headers the module builds without dist*
#include "store.h"
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <chrono>
#include <cstring>

namespace detclip {
namespace {

using Ms = std::chrono::milliseconds;

// Held through raw pointers on purpose: never destroyed at process exit, where joining a Gloo thread that is
// stuck on a dead peer would hang the exit. distDestroy() releases them explicitly.
c10::intrusive_ptr<c10d::Store>* gStore = nullptr;
c10::intrusive_ptr<c10d::ProcessGroupGloo>* gPg = nullptr;
Ms gTimeout{0};

// "[/build/.../pair.cc:589] Connection closed by peer [127.0.0.1]:1234" -> "Connection closed by peer ..."
std::string clean(std::string m) {
  if (!m.empty() && m[0] == '[') {
    auto end = m.find("] ");
    if (end != std::string::npos) m = m.substr(end + 2);
  }
  auto nl = m.find('\n');
  if (nl != std::string::npos) m = m.substr(0, nl);
  return m;
}

#define DIST_TRY try {
#define DIST_CATCH(msg)                                                                        \
  }                                                                                             \
  catch (const Napi::Error&) {                                                                  \
    throw;                                                                                      \
  }                                                                                             \
  catch (const c10::Error& e) {                                                                 \
    throw Napi::Error::New(info.Env(), std::string(msg) + ": " + clean(e.what_without_backtrace())); \
  }                                                                                             \
  catch (const std::exception& e) {                                                             \
    throw Napi::Error::New(info.Env(), std::string(msg) + ": " + clean(e.what()));            \
  }

c10d::ProcessGroupGloo& pg(const Napi::Env& env) {
  if (!gPg) throw Napi::Error::New(env, "distributed: no process group (call distInit first)");
  return **gPg;
}

c10d::Store& kv(const Napi::Env& env) {
  if (!gStore) throw Napi::Error::New(env, "distributed: no rendezvous store (call distInit first)");
  return **gStore;
}

std::string str(const Napi::Object& o, const char* k, const std::string& dflt = "") {
  auto v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : dflt;
}

int64_t int_(const Napi::Object& o, const char* k) {
  auto v = o.Get(k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("distInit: '") + k + "' must be a number");
  return v.As<Napi::Number>().Int64Value();
}

// One JS typed array viewed as bytes.
struct Span {
  uint8_t* data;
  size_t bytes;
};

std::vector<Span> spans(const Napi::Value& v, bool floatOnly) {
  auto env = v.Env();
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of typed arrays");
  auto arr = v.As<Napi::Array>();
  std::vector<Span> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto x = arr.Get(i);
    if (!x.IsTypedArray()) throw Napi::TypeError::New(env, "expected Float32Array / Int32Array buffers");
    auto ta = x.As<Napi::TypedArray>();
    auto t = ta.TypedArrayType();
    if (floatOnly ? t != napi_float32_array : (t != napi_float32_array && t != napi_int32_array))
      throw Napi::TypeError::New(env, floatOnly ? "allreduce: Float32Array buffers only" : "broadcast: Float32Array / Int32Array buffers only");
    out.push_back({static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength()});
  }
  return out;
}

// Groups consecutive spans into buckets of at most `cap` bytes; a span larger than `cap` is its own bucket and is
// reduced in place (no copy). kind: float (allreduce) or bytes (broadcast).
struct Bucket {
  size_t first, last;  // spans [first, last)
  size_t bytes;
  at::Tensor t;
  bool inPlace;
};

std::vector<Bucket> bucketize(const std::vector<Span>& s, size_t cap, bool asFloat) {
  std::vector<Bucket> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i, bytes = 0;
    while (j < s.size() && (j == i || bytes + s[j].bytes <= cap)) bytes += s[j++].bytes;
    Bucket b{i, j, bytes, at::Tensor(), false};
    auto opts = at::TensorOptions().dtype(asFloat ? at::kFloat : at::kByte);
    int64_t n = static_cast<int64_t>(asFloat ? bytes / 4 : bytes);
    if (j == i + 1) {
      b.t = at::from_blob(s[i].data, {n}, opts);  // the JS thread is blocked: the buffer cannot move or go away
      b.inPlace = true;
    } else {
      b.t = at::empty({n}, opts);
      uint8_t* dst = static_cast<uint8_t*>(b.t.data_ptr());
      for (size_t k = i; k < j; k++) { std::memcpy(dst, s[k].data, s[k].bytes); dst += s[k].bytes; }
    }
    if (bytes > 0) out.push_back(std::move(b));
    i = j;
  }
  return out;
}

void unbucket(const std::vector<Span>& s, const std::vector<Bucket>& bs) {
  for (const auto& b : bs) {
    if (b.inPlace) continue;
    const uint8_t* src = static_cast<const uint8_t*>(b.t.data_ptr());
    for (size_t k = b.first; k < b.last; k++) { std::memcpy(s[k].data, src, s[k].bytes); src += s[k].bytes; }
  }
}

void waitAll(std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  for (auto& w : works) w->wait(gTimeout + Ms(5000));
}

size_t capOf(const Napi::CallbackInfo& info, size_t i) {
  double mb = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 25;
  return static_cast<size_t>(std::max(1.0, mb) * 1024 * 1024);
}

// distInit({rank, worldSize, host, port, timeoutMs, iface?, hostname?}) -> {port}. Rank 0 listens on host:port
// (0 = any free port), the others connect; both wait up to timeoutMs for all ranks.
DC_FN(DistInit) {
  auto env = info.Env();
  if (gPg) throw Napi::Error::New(env, "distInit: already initialised");
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "distInit(options)");
  auto o = info[0].As<Napi::Object>();
  int rank = static_cast<int>(int_(o, "rank"));
  int world = static_cast<int>(int_(o, "worldSize"));
  int port = static_cast<int>(int_(o, "port"));
  Ms timeout(int_(o, "timeoutMs"));
  std::string host = str(o, "host", "127.0.0.1");
  std::string where = host + ":" + std::to_string(port);
  if (world < 1 || rank < 0 || rank >= world) throw Napi::RangeError::New(env, "distInit: need 0 <= rank < worldSize");
  c10::intrusive_ptr<c10d::Store> store;
  DIST_TRY
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(port);
  so.isServer = rank == 0;
  so.numWorkers = static_cast<size_t>(world);
  so.waitWorkers = true;
  so.timeout = timeout;
  store = c10::make_intrusive<c10d::TCPStore>(host, so);
  DIST_CATCH("rendezvous at " + where + " failed (rank " + std::to_string(rank) + " of " + std::to_string(world) + ")")
  int boundPort = static_cast<int>(static_cast<c10d::TCPStore*>(store.get())->getPort());
  DIST_TRY
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  std::string iface = str(o, "iface"), hostname = str(o, "hostname");
  opts->devices.push_back(!iface.empty() ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
                          : !hostname.empty() ? c10d::ProcessGroupGloo::createDeviceForHostname(hostname)
                                              : c10d::ProcessGroupGloo::createDefaultDevice());
  opts->threads = 2;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
  gPg = new c10::intrusive_ptr<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, world, opts));
  DIST_CATCH("creating the Gloo process group failed (rank " + std::to_string(rank) + ")")
  gStore = new c10::intrusive_ptr<c10d::Store>(store);
  gTimeout = timeout;
  auto out = Napi::Object::New(env);
  out.Set("port", boundPort);
  return out;
}

// One collective per bucket of `s` (all started, then all awaited); buckets that were copies are copied back.
template <typename Collective>
void eachBucket(const std::vector<Span>& s, size_t cap, bool isFloat, Collective run) {
  auto bs = bucketize(s, cap, isFloat);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& b : bs) {
    std::vector<at::Tensor> one{b.t};
    works.push_back(run(one));
  }
  waitAll(works);
  unbucket(s, bs);
}

// distAllreduce(buffers: Float32Array[], op 'sum'|'max'|'min', bucketMb = 25): in place, the same on every rank.
DC_FN(DistAllreduce) {
  auto env = info.Env();
  auto& g = pg(env);
  auto s = spans(info[0], true);
  std::string op = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "sum";
  c10d::AllreduceOptions ao;
  if (op == "sum") ao.reduceOp = c10d::ReduceOp::SUM;
  else if (op == "max") ao.reduceOp = c10d::ReduceOp::MAX;
  else if (op == "min") ao.reduceOp = c10d::ReduceOp::MIN;
  else throw Napi::TypeError::New(env, "allreduce: op must be sum, max or min");
  DIST_TRY
  eachBucket(s, capOf(info, 2), true, [&](std::vector<at::Tensor>& one) { return g.allreduce(one, ao); });
  return env.Undefined();
  DIST_CATCH("allreduce failed")
}

// distBroadcast(buffers: (Float32Array | Int32Array)[], root = 0, bucketMb = 25): bytes from root to every rank.
DC_FN(DistBroadcast) {
  auto env = info.Env();
  auto& g = pg(env);
  auto s = spans(info[0], false);
  c10d::BroadcastOptions bo;
  bo.rootRank = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  DIST_TRY
  eachBucket(s, capOf(info, 2), false, [&](std::vector<at::Tensor>& one) { return g.broadcast(one, bo); });
  return env.Undefined();
  DIST_CATCH("broadcast failed")
}

// distAllgather(words: Int32Array) -> Int32Array [worldSize * words.length], rank r's words at r * length.
// Every rank passes the same length (callers pad to the longest, after an allreduce of the lengths).
DC_FN(DistAllgather) {
  auto env = info.Env();
  auto& g = pg(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "allgather: an Int32Array");
  auto in = info[0].As<Napi::Int32Array>();
  int64_t n = static_cast<int64_t>(in.ElementLength());
  int world = g.getSize();
  auto out = Napi::Int32Array::New(env, static_cast<size_t>(world * n));
  if (n == 0) return out;
  DIST_TRY
  auto opts = at::TensorOptions().dtype(at::kInt);
  std::vector<at::Tensor> inputs{at::from_blob(in.Data(), {n}, opts)};  // the JS thread is blocked: no GC moves
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < world; r++) outputs[0].push_back(at::from_blob(out.Data() + r * n, {n}, opts));
  auto w = g.allgather(outputs, inputs);
  w->wait(gTimeout + Ms(5000));
  return out;
  DIST_CATCH("allgather failed")
}

DC_FN(DistBarrier) {
  auto env = info.Env();
  auto& g = pg(env);
  DIST_TRY
  auto w = g.barrier();
  w->wait(gTimeout + Ms(5000));
  return env.Undefined();
  DIST_CATCH("barrier failed")
}

// Rendezvous store: small string values (failure check-ins, rank-0 notices).
DC_FN(DistStoreSet) {
  auto env = info.Env();
  std::string k = info[0].As<Napi::String>().Utf8Value(), v = info[1].As<Napi::String>().Utf8Value();
  DIST_TRY
  kv(env).set("detclip/" + k, std::vector<uint8_t>(v.begin(), v.end()));
  return env.Undefined();
  DIST_CATCH("rendezvous store set failed")
}

// distStoreWait(key, timeoutMs) -> value: waits for the key, then reads it.
DC_FN(DistStoreWait) {
  auto env = info.Env();
  std::string k = "detclip/" + info[0].As<Napi::String>().Utf8Value();
  Ms t(i64(info[1]));
  DIST_TRY
  kv(env).wait({k}, t);
  auto v = kv(env).get(k);
  return Napi::String::New(env, std::string(v.begin(), v.end()));
  DIST_CATCH("rendezvous store wait failed")
}

DC_FN(DistStoreCheck) {
  auto env = info.Env();
  std::string k = "detclip/" + info[0].As<Napi::String>().Utf8Value();
  DIST_TRY
  return Napi::Boolean::New(env, kv(env).check({k}));
  DIST_CATCH("rendezvous store check failed")
}

DC_FN(DistDestroy) {
  delete gPg;
  gPg = nullptr;
  delete gStore;
  gStore = nullptr;
  return info.Env().Undefined();
}

}  // namespace

void registerDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New(env, DistInit));
  exports.Set("distAllreduce", Napi::Function::New(env, DistAllreduce));
  exports.Set("distBroadcast", Napi::Function::New(env, DistBroadcast));
  exports.Set("distAllgather", Napi::Function::New(env, DistAllgather));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier));
  exports.Set("distStoreSet", Napi::Function::New(env, DistStoreSet));
  exports.Set("distStoreWait", Napi::Function::New(env, DistStoreWait));
  exports.Set("distStoreCheck", Napi::Function::New(env, DistStoreCheck));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy));
}

}  // namespace detclip

#else
#include "store.h"

namespace detclip {
// Built without Gloo's headers: no dist* functions; src/train/distributed says to install libgloo-dev.
void registerDist(Napi::Env, Napi::Object) {}
}  // namespace detclip
#endif
