// One beam-search expansion on the device: for each source b, the `count` best of its
// beams * V candidates (k, v), scored beam_scores[b * K + k] + log_probs[b * K + k, v] (a float
// sum, as on the CPU), in descending score order, ties to the lower id k * V + v. CPU twin:
// beam_candidates of the CPU backend. No CUDA types.
//
// One block per source selects the candidates one after another: in round j every thread finds
// the best of its strided candidates that rank after round j-1's pick, and the block keeps the
// best of those. The ranking (beam_ranks_before) is a total order, so the pick is the same
// whatever order the threads' bests are combined in, and equals a sort's. The cost is count
// rounds over beams * V candidates, so count is capped at kMaxBeamCandidates
// (kernels/launch_shape.h); beam search asks for 2 * beams.
//
// NaN scores rank after every number (a NaN candidate is picked only when nothing else is
// left); -inf scores (finished beams) rank by id among themselves like any tie.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// Whether candidate (score a, id ia) ranks before (b, ib); id -1 means "none" and ranks last.
S2S_HOST_DEVICE bool beam_ranks_before(float a, int ia, float b, int ib) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  const bool a_nan = a != a, b_nan = b != b;
  if (a_nan != b_nan) return b_nan;
  if (!a_nan && a != b) return a > b;
  return ia < ib;
}

struct BeamCandidatesArgs {
  const float* log_probs = nullptr;    // [B * K, V]
  const float* beam_scores = nullptr;  // [B * K]
  int batch = 0, beams = 0, vocab = 0, count = 0;
};

// Candidate `id` = k * V + v of source b.
S2S_HOST_DEVICE float beam_candidate_score(const BeamCandidatesArgs& a, int b, int id) {
  const int k = id / a.vocab;
  const int v = id - k * a.vocab;
  const std::size_t row = static_cast<std::size_t>(b) * a.beams + k;
  return a.beam_scores[row] + a.log_probs[row * a.vocab + v];
}

// A candidate and its rank key.
struct BeamPick {
  float score;
  int id;  // -1: none
};

// The best of source b's candidates first, first + stride, ... that rank after `previous`
// (all of them when previous.id < 0); id -1 when there is none.
S2S_HOST_DEVICE BeamPick beam_best_after(const BeamCandidatesArgs& a, int b, int first, int stride,
                                         BeamPick previous) {
  BeamPick best{0.0f, -1};
  const int candidates = a.beams * a.vocab;
  for (int id = first; id < candidates; id += stride) {
    const float score = beam_candidate_score(a, b, id);
    const bool eligible =
        previous.id < 0 || beam_ranks_before(previous.score, previous.id, score, id);
    if (eligible && beam_ranks_before(score, id, best.score, best.id)) best = {score, id};
  }
  return best;
}

// scores_out [B, count], ids_out [B, count]; device memory. The caller has checked
// count <= kMaxBeamCandidates, count <= beams * V and beams * V < 2^31.
void beam_candidates_cuda(const BeamCandidatesArgs& args, float* scores_out, std::int32_t* ids_out,
                          Stream stream);

}  // namespace s2s::cuda
