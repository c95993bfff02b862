// Node-API bindings: each function unpacks its typed arrays (zero-copy views of JS memory) and
// calls the kernel for their element type. Argument order mirrors src/backend/backend.ts.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention.h"
#include "dropout.h"
#include "elementwise.h"
#include "gated.h"
#include "gemm.h"
#include "rope.h"
#include "rows.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifdef MORELORA_OPENBLAS
extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
}
#endif

using namespace morelora;

namespace {

struct View {
  void* data = nullptr;
  napi_typedarray_type type = napi_float32_array;
  size_t length = 0;
};

View view(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a typed array");
  auto ta = v.As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.TypedArrayType(), ta.ElementLength()};
}

template <typename T>
T* ptr(const View& v) { return static_cast<T*>(v.data); }

// A float array or null (optional weights).
View optional(const Napi::Value& v, const char* what) { return v.IsNull() || v.IsUndefined() ? View{} : view(v, what); }

std::vector<int64_t> ints(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

int64_t num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
double dbl(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
bool flag(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

// Runs body<float> or body<double> by the element type of `v`.
template <typename F>
void byFloat(const Napi::Env& env, const View& v, F body) {
  if (v.type == napi_float32_array)
    body(float{});
  else if (v.type == napi_float64_array)
    body(double{});
  else
    throw Napi::TypeError::New(env, "expected a Float32Array or Float64Array");
}

// Kernels report bad input (an index out of range) with std exceptions; JS sees a RangeError.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    body();
  } catch (const std::range_error& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  GemmShape g{flag(info, 0), flag(info, 1), num(info, 2), num(info, 3), num(info, 4), dbl(info, 5), dbl(info, 6)};
  View a = view(info[7], "a"), b = view(info[10], "b"), c = view(info[13], "c");
  byFloat(info.Env(), a, [&](auto t) {
    using T = decltype(t);
    gemm<T>(g, ptr<T>(a) + num(info, 8), num(info, 9), ptr<T>(b) + num(info, 11), num(info, 12),
            ptr<T>(c) + num(info, 14), num(info, 15), num(info, 16));
  });
  return info.Env().Undefined();
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  View a = view(info[1], "a"), b = view(info[3], "b"), out = view(info[5], "out");
  auto shape = ints(info[6]);
  RowPlan p = planRows(shape, {ints(info[2]), ints(info[4]), contiguousStrides(shape)});
  byFloat(info.Env(), a, [&](auto t) {
    using T = decltype(t);
    binary<T>((int)num(info, 0), p, ptr<T>(a), ptr<T>(b), ptr<T>(out));
  });
  return info.Env().Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  View x = view(info[1], "x"), out = view(info[2], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    unary<T>((int)num(info, 0), (int64_t)x.length, ptr<T>(x), ptr<T>(out), dbl(info, 3), dbl(info, 4));
  });
  return info.Env().Undefined();
}

Napi::Value UnaryGrad(const Napi::CallbackInfo& info) {
  View x = view(info[1], "x"), y = view(info[2], "y"), gy = view(info[3], "gy"), gx = view(info[4], "gx");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    unaryGrad<T>((int)num(info, 0), (int64_t)x.length, ptr<T>(x), ptr<T>(y), ptr<T>(gy), ptr<T>(gx), dbl(info, 5),
                 dbl(info, 6));
  });
  return info.Env().Undefined();
}

Napi::Value GatedActivation(const Napi::CallbackInfo& info) {
  View g = view(info[1], "g"), u = view(info[2], "u"), out = view(info[3], "out");
  byFloat(info.Env(), g, [&](auto t) {
    using T = decltype(t);
    gatedActivation<T>((int)num(info, 0), (int64_t)g.length, ptr<T>(g), ptr<T>(u), ptr<T>(out));
  });
  return info.Env().Undefined();
}

Napi::Value GatedActivationGrad(const Napi::CallbackInfo& info) {
  View g = view(info[1], "g"), u = view(info[2], "u"), gy = view(info[3], "gy");
  View gg = view(info[4], "gg"), gu = view(info[5], "gu");
  byFloat(info.Env(), g, [&](auto t) {
    using T = decltype(t);
    gatedActivationGrad<T>((int)num(info, 0), (int64_t)g.length, ptr<T>(g), ptr<T>(u), ptr<T>(gy), ptr<T>(gg),
                           ptr<T>(gu));
  });
  return info.Env().Undefined();
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), out = view(info[1], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    dropout<T>((int64_t)x.length, ptr<T>(x), ptr<T>(out), dbl(info, 2), uint32_t(num(info, 3)));
  });
  return info.Env().Undefined();
}

Napi::Value Select(const Napi::CallbackInfo& info) {
  View cond = view(info[0], "cond"), a = view(info[2], "a"), b = view(info[4], "b"), out = view(info[6], "out");
  auto shape = ints(info[7]);
  RowPlan p = planRows(shape, {ints(info[1]), ints(info[3]), ints(info[5]), contiguousStrides(shape)});
  byFloat(info.Env(), a, [&](auto t) {
    using T = decltype(t);
    select<T>(p, ptr<int32_t>(cond), ptr<T>(a), ptr<T>(b), ptr<T>(out));
  });
  return info.Env().Undefined();
}

Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  View src = view(info[0], "src"), dst = view(info[3], "dst");
  if (src.type != dst.type) throw Napi::TypeError::New(info.Env(), "copyStrided: src and dst types differ");
  RowPlan p = planRows(ints(info[6]), {ints(info[2]), ints(info[5])});
  int64_t so = num(info, 1), d = num(info, 4);
  bool acc = flag(info, 7);
  if (src.type == napi_int32_array)
    copyStrided(p, ptr<int32_t>(src) + so, ptr<int32_t>(dst) + d, acc);
  else
    byFloat(info.Env(), src, [&](auto t) {
      using T = decltype(t);
      copyStrided(p, ptr<T>(src) + so, ptr<T>(dst) + d, acc);
    });
  return info.Env().Undefined();
}

Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), out = view(info[4], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    reduceSum<T>(ptr<T>(x), num(info, 1), num(info, 2), num(info, 3), ptr<T>(out));
  });
  return info.Env().Undefined();
}

Napi::Value ReduceMax(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), out = view(info[4], "out"), arg = view(info[5], "argmax");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    reduceMax<T>(ptr<T>(x), num(info, 1), num(info, 2), num(info, 3), ptr<T>(out), ptr<int32_t>(arg));
  });
  return info.Env().Undefined();
}

// indexSelect and indexAdd share one argument layout: (src, outer, len, inner, idx, dst).
template <bool Add>
Napi::Value IndexRows(const Napi::CallbackInfo& info) {
  View src = view(info[0], "src"), idx = view(info[4], "idx"), dst = view(info[5], "dst");
  return guarded(info, [&] {
    byFloat(info.Env(), src, [&](auto t) {
      using T = decltype(t);
      if (Add)
        indexAdd<T>(ptr<T>(src), num(info, 1), num(info, 2), num(info, 3), ptr<int32_t>(idx), (int64_t)idx.length,
                    ptr<T>(dst));
      else
        indexSelect<T>(ptr<T>(src), num(info, 1), num(info, 2), num(info, 3), ptr<int32_t>(idx), (int64_t)idx.length,
                       ptr<T>(dst));
    });
  });
}

// gather and scatterAdd share (src, outer, len, inner, k, idx, dst).
template <bool Add>
Napi::Value GatherScatter(const Napi::CallbackInfo& info) {
  View src = view(info[0], "src"), idx = view(info[5], "idx"), dst = view(info[6], "dst");
  return guarded(info, [&] {
    byFloat(info.Env(), src, [&](auto t) {
      using T = decltype(t);
      if (Add)
        scatterAdd<T>(ptr<T>(src), num(info, 1), num(info, 2), num(info, 3), num(info, 4), ptr<int32_t>(idx),
                      ptr<T>(dst));
      else
        gather<T>(ptr<T>(src), num(info, 1), num(info, 2), num(info, 3), num(info, 4), ptr<int32_t>(idx), ptr<T>(dst));
    });
  });
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), out = view(info[3], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    softmax<T>(ptr<T>(x), num(info, 1), num(info, 2), ptr<T>(out), flag(info, 4));
  });
  return info.Env().Undefined();
}

Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  View y = view(info[0], "y"), gy = view(info[1], "gy"), gx = view(info[4], "gx");
  byFloat(info.Env(), y, [&](auto t) {
    using T = decltype(t);
    softmaxGrad<T>(ptr<T>(y), ptr<T>(gy), num(info, 2), num(info, 3), ptr<T>(gx), flag(info, 5));
  });
  return info.Env().Undefined();
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), w = optional(info[1], "weight"), b = optional(info[2], "bias");
  View out = view(info[6], "out"), mean = view(info[7], "mean"), rstd = view(info[8], "rstd");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    layerNorm<T>(ptr<T>(x), ptr<T>(w), ptr<T>(b), num(info, 3), num(info, 4), dbl(info, 5), ptr<T>(out), ptr<T>(mean),
                 ptr<T>(rstd));
  });
  return info.Env().Undefined();
}

Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), w = optional(info[1], "weight"), mean = view(info[2], "mean");
  View rstd = view(info[3], "rstd"), gy = view(info[4], "gy"), gx = view(info[7], "gx");
  View gw = optional(info[8], "gw"), gb = optional(info[9], "gb");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    layerNormGrad<T>(ptr<T>(x), ptr<T>(w), ptr<T>(mean), ptr<T>(rstd), ptr<T>(gy), num(info, 5), num(info, 6),
                     ptr<T>(gx), ptr<T>(gw), ptr<T>(gb));
  });
  return info.Env().Undefined();
}

Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), w = optional(info[1], "weight"), out = view(info[5], "out"), rstd = view(info[6], "rstd");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    rmsNorm<T>(ptr<T>(x), ptr<T>(w), num(info, 2), num(info, 3), dbl(info, 4), ptr<T>(out), ptr<T>(rstd));
  });
  return info.Env().Undefined();
}

Napi::Value RmsNormGrad(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), w = optional(info[1], "weight"), rstd = view(info[2], "rstd"), gy = view(info[3], "gy");
  View gx = view(info[6], "gx"), gw = optional(info[7], "gw");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    rmsNormGrad<T>(ptr<T>(x), ptr<T>(w), ptr<T>(rstd), ptr<T>(gy), num(info, 4), num(info, 5), ptr<T>(gx), ptr<T>(gw));
  });
  return info.Env().Undefined();
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  View x = view(info[0], "logits"), tg = view(info[1], "targets"), loss = view(info[6], "loss"), lse = view(info[7], "lse");
  return guarded(info, [&] {
    byFloat(info.Env(), x, [&](auto t) {
      using T = decltype(t);
      crossEntropy<T>(ptr<T>(x), ptr<int32_t>(tg), num(info, 2), num(info, 3), num(info, 4), dbl(info, 5), ptr<T>(loss),
                      ptr<T>(lse));
    });
  });
}

Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  View x = view(info[0], "logits"), tg = view(info[1], "targets"), lse = view(info[2], "lse");
  View gl = view(info[3], "gLoss"), gx = view(info[8], "gx");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    crossEntropyGrad<T>(ptr<T>(x), ptr<int32_t>(tg), ptr<T>(lse), ptr<T>(gl), num(info, 4), num(info, 5), num(info, 6),
                        dbl(info, 7), ptr<T>(gx));
  });
  return info.Env().Undefined();
}

// attention and attentionGrad share (batch, heads, kvHeads, tq, tk, dim, scale, causal, window, keyMask, dropout,
// dropoutSeed, q, k, v, out, lse); the gradient adds (dOut, dq, dk, dv).
AttentionShape attentionShape(const Napi::CallbackInfo& info) {
  View mask = optional(info[9], "keyMask");
  return {num(info, 0),  num(info, 1), num(info, 2),
          num(info, 3),  num(info, 4), num(info, 5),
          dbl(info, 6),  flag(info, 7), num(info, 8),
          mask.data ? ptr<int32_t>(mask) : nullptr,
          dbl(info, 10), uint32_t(num(info, 11))};
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  AttentionShape s = attentionShape(info);
  View q = view(info[12], "q"), k = view(info[13], "k"), v = view(info[14], "v");
  View out = view(info[15], "out"), lse = view(info[16], "lse");
  byFloat(info.Env(), q, [&](auto t) {
    using T = decltype(t);
    attentionForward<T>(s, ptr<T>(q), ptr<T>(k), ptr<T>(v), ptr<T>(out), ptr<T>(lse));
  });
  return info.Env().Undefined();
}

Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  AttentionShape s = attentionShape(info);
  View q = view(info[12], "q"), k = view(info[13], "k"), v = view(info[14], "v");
  View out = view(info[15], "out"), lse = view(info[16], "lse"), g = view(info[17], "dOut");
  View dq = view(info[18], "dq"), dk = view(info[19], "dk"), dv = view(info[20], "dv");
  byFloat(info.Env(), q, [&](auto t) {
    using T = decltype(t);
    attentionBackward<T>(s, ptr<T>(q), ptr<T>(k), ptr<T>(v), ptr<T>(out), ptr<T>(lse), ptr<T>(g), ptr<T>(dq),
                         ptr<T>(dk), ptr<T>(dv));
  });
  return info.Env().Undefined();
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), cos = view(info[1], "cos"), sin = view(info[2], "sin"), out = view(info[6], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    rope<T>(ptr<T>(x), ptr<T>(cos), ptr<T>(sin), num(info, 3), num(info, 4), num(info, 5), ptr<T>(out), flag(info, 7));
  });
  return info.Env().Undefined();
}

Napi::Value RowNorm(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), out = view(info[3], "out");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    rowNorm<T>(ptr<T>(x), num(info, 1), num(info, 2), ptr<T>(out));
  });
  return info.Env().Undefined();
}

Napi::Value RowNormGrad(const Napi::CallbackInfo& info) {
  View x = view(info[0], "x"), norm = view(info[1], "norm"), g = view(info[2], "gNorm"), gx = view(info[5], "gx");
  byFloat(info.Env(), x, [&](auto t) {
    using T = decltype(t);
    rowNormGrad<T>(ptr<T>(x), ptr<T>(norm), ptr<T>(g), num(info, 3), num(info, 4), ptr<T>(gx));
  });
  return info.Env().Undefined();
}

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  View p = view(info[0], "param"), g = view(info[1], "grad"), m = view(info[2], "m"), v = view(info[3], "v");
  byFloat(info.Env(), p, [&](auto t) {
    using T = decltype(t);
    adamw<T>((int64_t)p.length, ptr<T>(p), ptr<T>(g), ptr<T>(m), ptr<T>(v), dbl(info, 4), dbl(info, 5), dbl(info, 6),
             dbl(info, 7), dbl(info, 8), dbl(info, 9));
  });
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = (int)num(info, 0);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
#ifdef MORELORA_OPENBLAS
  openblas_set_num_threads(n);
#endif
  return info.Env().Undefined();
}

// The BLAS linked at build time ("builtin" when none), the GEMM in use ("blas" or a built-in
// one's name) and the built-in GEMMs this CPU can run.
Napi::Value Info(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
#if defined(MORELORA_OPENBLAS)
  o.Set("blas", "openblas");
  o.Set("coretype", openblas_get_corename());
#elif defined(MORELORA_ACCELERATE)
  o.Set("blas", "accelerate");
  o.Set("coretype", "");
#elif defined(MORELORA_BLIS)
  o.Set("blas", "blis");
  o.Set("coretype", "");
#else
  o.Set("blas", "builtin");
  o.Set("coretype", "");
#endif
  o.Set("gemm", activeGemm() ? activeGemm()->name : "blas");
  auto kernels = Napi::Array::New(info.Env());
  for (const BuiltinGemm* g : builtinGemms()) kernels.Set(kernels.Length(), g->name);
  o.Set("builtinGemms", kernels);
#ifdef _OPENMP
  o.Set("threads", omp_get_max_threads());
#else
  o.Set("threads", 1);
#endif
  return o;
}

Napi::Value SetGemm(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!setGemm(name.c_str())) throw Napi::RangeError::New(info.Env(), "setGemm: no GEMM \"" + name + "\" in this build");
  return info.Env().Undefined();
}

// Training allocates and frees the same large activation buffers every step. glibc serves large
// blocks with fresh mmaps, so each step would page-fault through every buffer again; keeping them
// in the heap instead makes a freed buffer's pages reusable at once (as PyTorch's caching
// allocator does). MORELORA_MALLOC=system leaves malloc as it is.
void keepLargeBlocksInHeap() {
#ifdef __GLIBC__
  const char* setting = std::getenv("MORELORA_MALLOC");
  if (setting && std::strcmp(setting, "system") == 0) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  keepLargeBlocksInHeap();
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("unaryGrad", Napi::Function::New(env, UnaryGrad));
  exports.Set("gatedActivation", Napi::Function::New(env, GatedActivation));
  exports.Set("gatedActivationGrad", Napi::Function::New(env, GatedActivationGrad));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("reduceMax", Napi::Function::New(env, ReduceMax));
  exports.Set("indexSelect", Napi::Function::New(env, IndexRows<false>));
  exports.Set("indexAdd", Napi::Function::New(env, IndexRows<true>));
  exports.Set("gather", Napi::Function::New(env, GatherScatter<false>));
  exports.Set("scatterAdd", Napi::Function::New(env, GatherScatter<true>));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("rmsNorm", Napi::Function::New(env, RmsNorm));
  exports.Set("rmsNormGrad", Napi::Function::New(env, RmsNormGrad));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("crossEntropyGrad", Napi::Function::New(env, CrossEntropyGrad));
  exports.Set("attention", Napi::Function::New(env, Attention));
  exports.Set("attentionGrad", Napi::Function::New(env, AttentionGrad));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("rowNorm", Napi::Function::New(env, RowNorm));
  exports.Set("rowNormGrad", Napi::Function::New(env, RowNormGrad));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setGemm", Napi::Function::New(env, SetGemm));
  return exports;
}

}  // namespace

NODE_API_MODULE(morelora_native, Init)
