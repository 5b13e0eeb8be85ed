// Bahdanau's additive attention score on projected inputs, forward and backward:
// scores[b, q, s] = sum_a v[a] * tanh(query[q, b, a] + keys[s, b, a]). The per-thread bodies are
// host-callable (the Kernel* tests run them on the CPU); the launchers are in
// kernels/additive_scores.cu. CPU twin: additive_scores(_backward) of the CPU backend.
//
// Forward: one warp per score, lanes striding a (coalesced reads of a query row and a key row).
// Backward, deterministic and without atomics: one thread per dquery element (q, b, a) walks
// s = 0, 1, ...; one thread per dkeys element (s, b, a) walks q = 0, 1, ...; dv[a] is the column
// sum (kernels/column_sum.h, fixed order) of per-(q, b) partial sums the dquery pass leaves in
// scratch. tanh is recomputed rather than stored (Tq * Ts * B * A values would not fit). A
// score whose gradient is 0 (every padded position, after masked_softmax_backward) is skipped,
// as the CPU reference skips it: no work, and whatever its inputs hold (NaN included) does not
// reach a gradient.
#pragma once

#include <cmath>
#include <cstddef>

#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

struct AdditiveScoresArgs {
  const float* query = nullptr;                             // [Tq, B, A]
  const float* keys = nullptr;                              // [Ts, B, A]
  const float* v = nullptr;                                 // [A]
  int query_len = 0, source_len = 0, batch = 0, width = 0;  // Tq, Ts, B, A
};

// The lane's part of score `out` (index (b * Tq + q) * Ts + s of [B, Tq, Ts]): the sum over
// a = lane, lane + lanes, ... of v[a] * tanh(query[q, b, a] + keys[s, b, a]), in double.
S2S_HOST_DEVICE double additive_score_lane(const AdditiveScoresArgs& a, std::size_t out, int lane,
                                           int lanes) {
  const std::size_t s = out % a.source_len;
  const std::size_t bq = out / a.source_len;
  const std::size_t q = bq % a.query_len;
  const std::size_t b = bq / a.query_len;
  const float* query_row = a.query + (q * a.batch + b) * a.width;
  const float* key_row = a.keys + (s * a.batch + b) * a.width;
  double sum = 0.0;
  for (int x = lane; x < a.width; x += lanes)
    sum += static_cast<double>(a.v[x]) * static_cast<double>(tanhf(query_row[x] + key_row[x]));
  return sum;
}

struct AdditiveScoresBackwardArgs {
  AdditiveScoresArgs in;
  const float* dscores = nullptr;  // [B, Tq, Ts]
  float* dquery = nullptr;         // [Tq, B, A], nullable
  float* dkeys = nullptr;          // [Ts, B, A], nullable
  // [Tq * B, A], nullable: dv_partial[q * B + b, a] = sum_s dscores[b, q, s] * tanh(...), whose
  // column sums are dv.
  float* dv_partial = nullptr;
  bool accumulate = false;  // dquery and dkeys: add (true) or overwrite
};

// Thread `idx` = (q * B + b) * A + a: dquery[idx] = v[a] * sum_s dscores[b, q, s] * (1 - t^2)
// and dv_partial[idx] = sum_s dscores[b, q, s] * t, t = tanh(query[idx] + keys[s, b, a]); sums in
// double, s increasing, skipping dscores of 0.
S2S_HOST_DEVICE void additive_dquery_unit(const AdditiveScoresBackwardArgs& a, std::size_t idx) {
  const AdditiveScoresArgs& in = a.in;
  const std::size_t width = in.width, batch = in.batch;
  const std::size_t x = idx % width;
  const std::size_t qb = idx / width;
  const std::size_t b = qb % batch;
  const std::size_t q = qb / batch;
  const float query = in.query[idx];
  const float* dscore_row = a.dscores + (b * in.query_len + q) * in.source_len;
  double dtanh_sum = 0.0, tanh_sum = 0.0;
  for (int s = 0; s < in.source_len; ++s) {
    const double d = dscore_row[s];
    if (d == 0.0) continue;  // padded positions: no work, and their keys reach nothing
    const double t = tanhf(query + in.keys[(s * batch + b) * width + x]);
    dtanh_sum += d * (1.0 - t * t);
    tanh_sum += d * t;
  }
  if (a.dquery != nullptr) {
    const float fresh = static_cast<float>(static_cast<double>(in.v[x]) * dtanh_sum);
    a.dquery[idx] = a.accumulate ? a.dquery[idx] + fresh : fresh;
  }
  if (a.dv_partial != nullptr) a.dv_partial[idx] = static_cast<float>(tanh_sum);
}

// Thread `idx` = (s * B + b) * A + a: dkeys[idx] = v[a] * sum_q dscores[b, q, s] * (1 - t^2),
// t = tanh(query[q, b, a] + keys[idx]); the sum in double, q increasing, skipping dscores of 0.
S2S_HOST_DEVICE void additive_dkeys_unit(const AdditiveScoresBackwardArgs& a, std::size_t idx) {
  const AdditiveScoresArgs& in = a.in;
  const std::size_t width = in.width, batch = in.batch;
  const std::size_t x = idx % width;
  const std::size_t sb = idx / width;
  const std::size_t b = sb % batch;
  const std::size_t s = sb / batch;
  const float key = in.keys[idx];
  const float* dscore_column = a.dscores + b * in.query_len * in.source_len + s;
  double dtanh_sum = 0.0;
  for (int q = 0; q < in.query_len; ++q) {
    const double d = dscore_column[static_cast<std::size_t>(q) * in.source_len];
    if (d == 0.0) continue;
    const double t = tanhf(in.query[(q * batch + b) * width + x] + key);
    dtanh_sum += d * (1.0 - t * t);
  }
  const float fresh = static_cast<float>(static_cast<double>(in.v[x]) * dtanh_sum);
  a.dkeys[idx] = a.accumulate ? a.dkeys[idx] + fresh : fresh;
}

// Launchers; all pointers device memory. Forward: scores [B, Tq, Ts] overwritten.
void additive_scores_cuda(const AdditiveScoresArgs& args, float* scores, Stream stream);

// Device scratch bytes additive_scores_backward_cuda needs (0 when dv is not wanted).
std::size_t additive_scores_backward_scratch_bytes(int query_len, int batch, int width,
                                                   bool want_dv);

// dquery, dkeys (in `args`) and dv [A] (nullable) accumulated per args.accumulate; args'
// dv_partial is ignored (the scratch holds it). scratch: the bytes above, 256-aligned.
void additive_scores_backward_cuda(AdditiveScoresBackwardArgs args, float* dv, void* scratch,
                                   std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
