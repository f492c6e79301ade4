// Tensor store shared by the addon's translation units: int64 id -> at::Tensor.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>
#include <cstdint>
#include <unordered_map>

namespace detclip {

std::unordered_map<int64_t, at::Tensor>& store();
int64_t put(at::Tensor t);
const at::Tensor& get(const Napi::Env& env, const Napi::Value& v);
std::vector<int64_t> toShape(const Napi::Value& v);
void registerOps(Napi::Env env, Napi::Object exports);

}  // namespace detclip
