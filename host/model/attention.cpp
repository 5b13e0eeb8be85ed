// Attention over the encoder's outputs: scores, masked softmax, context and Luong's attentional
// layer, forward and backward, on the backend ops (host/model/attention.h).
#include "model/attention.h"

#include <algorithm>

#include "model/parameters.h"

namespace s2s {

std::vector<AttentionTensor> attention_tensors(const ModelConfig& c) {
  const std::int64_t H = c.hidden_size;
  const std::int64_t D = encoder_output_size(c);
  std::vector<AttentionTensor> tensors;
  switch (c.attention) {
    case AttentionKind::none: return tensors;
    case AttentionKind::dot: break;
    case AttentionKind::general:
      tensors.push_back({"decoder.attention.linear_in.weight", D, H});
      break;
    case AttentionKind::additive:
      tensors.push_back({"decoder.attention.linear_query.weight", H, H});
      tensors.push_back({"decoder.attention.linear_query.bias", H, 0});
      tensors.push_back({"decoder.attention.linear_context.weight", H, D});
      tensors.push_back({"decoder.attention.v.weight", 1, H});
      break;
  }
  tensors.push_back({"decoder.attention.linear_out.weight", H, D + H});
  return tensors;
}

namespace {

// Grows b to at least n elements (never shrinks) and returns its data.
template <typename T>
T* grown(Memory& memory, Buffer<T>& b, std::size_t n) {
  n = std::max<std::size_t>(n, 1);
  if (b.size() < n) {
    b.reset();
    b = Buffer<T>(memory, n);
  }
  return b.data();
}

}  // namespace

template <typename T>
Attention<T>::Attention(const ModelConfig& config, Ops<T>& ops)
    : kind_(config.attention),
      hidden_(config.hidden_size),
      width_(encoder_output_size(config)),
      ops_(ops) {}

template <typename T>
void Attention<T>::bind(const AttentionWeights<T>& weights, const T* memory,
                        const std::int32_t* source_lengths, int source_len, int rows,
                        int steps) {
  w_ = weights;
  memory_ = memory;
  lengths_ = source_lengths;
  source_len_ = source_len;
  rows_ = rows;
  steps_ = steps;
  Memory& m = ops_.memory();
  const std::size_t all = step_rows(steps);
  const std::size_t H = hidden_, D = width_;
  grown(m, weights_, all * source_len);
  grown(m, joined_, all * (D + H));
  grown(m, attentional_, all * H);
  if (kind_ == AttentionKind::general) grown(m, query_proj_, all * D);
  if (kind_ == AttentionKind::additive) {
    grown(m, query_proj_, all * H);
    // W_k M over every source position, once per binding: [Ts, N, H].
    T* keys = grown(m, keys_, static_cast<std::size_t>(source_len) * rows * H);
    ops_.linear_forward(memory, w_.linear_context, nullptr, source_len * rows, width_, hidden_,
                        keys);
  }
}

template <typename T>
void Attention<T>::forward(const T* query, int first, int count, T* attentional) {
  const int n = static_cast<int>(step_rows(count));
  const std::size_t at = step_rows(first);
  const std::size_t H = hidden_, D = width_;
  Memory& m = ops_.memory();
  // Scores [N, count, Ts] in scratch (the softmax's backward needs only the weights).
  T* scores = grown(m, dscores_, step_rows(count) * source_len_);
  switch (kind_) {
    case AttentionKind::none: return;
    case AttentionKind::dot:
      ops_.attention_scores(query, memory_, count, source_len_, rows_, width_, scores);
      break;
    case AttentionKind::general: {
      T* projected = query_proj_.data() + at * D;
      ops_.linear_forward(query, w_.linear_in, nullptr, n, hidden_, width_, projected);
      ops_.attention_scores(projected, memory_, count, source_len_, rows_, width_, scores);
      break;
    }
    case AttentionKind::additive: {
      T* projected = query_proj_.data() + at * H;
      ops_.linear_forward(query, w_.linear_query, w_.query_bias, n, hidden_, hidden_, projected);
      ops_.additive_scores(projected, keys_.data(), w_.v, count, source_len_, rows_, hidden_,
                           scores);
      break;
    }
  }
  T* weights = weights_.data() + at * source_len_;
  ops_.masked_softmax(scores, lengths_, count, source_len_, rows_, weights);
  T* context = grown(m, dcontext_, step_rows(count) * D);
  ops_.attention_context(weights, memory_, count, source_len_, rows_, width_, context);
  // [c ; h]: context first, then the query (docs/CHECKPOINT.md).
  T* joined = joined_.data() + at * (D + H);
  ops_.concat_columns(context, query, n, width_, hidden_, joined);
  T* out = attentional_.data() + at * H;
  ops_.linear_forward(joined, w_.linear_out, nullptr, n, width_ + hidden_, hidden_, out);
  ops_.tanh_forward(out, static_cast<std::size_t>(n) * H, out);
  m.copy(attentional, out, static_cast<std::size_t>(n) * H * sizeof(T));
}

template <typename T>
const T* Attention<T>::weights(int first, int /*count*/) const {
  return weights_.data() + step_rows(first) * source_len_;
}

template <typename T>
void Attention<T>::begin_backward() {
  Memory& m = ops_.memory();
  const std::size_t source_rows = static_cast<std::size_t>(source_len_) * rows_;
  T* dmemory = grown(m, dmemory_, source_rows * width_);
  m.zero(dmemory, source_rows * width_ * sizeof(T));
  if (kind_ == AttentionKind::additive) {
    T* dkeys = grown(m, dkeys_, source_rows * hidden_);
    m.zero(dkeys, source_rows * hidden_ * sizeof(T));
  }
}

template <typename T>
void Attention<T>::backward(const T* query, const T* dattentional, int first, int count,
                            T* dquery, const AttentionGrads<T>& g) {
  const int n = static_cast<int>(step_rows(count));
  const std::size_t rows = step_rows(count);
  const std::size_t at = step_rows(first);
  const std::size_t H = hidden_, D = width_;
  Memory& m = ops_.memory();
  constexpr GradMode add = GradMode::accumulate;

  // h~ = tanh(W_out [c ; h]).
  T* dpre = grown(m, dpre_, rows * H);
  ops_.tanh_backward(attentional_.data() + at * H, dattentional, rows * H, dpre);
  T* djoined = grown(m, djoined_, rows * (D + H));
  ops_.linear_backward(joined_.data() + at * (D + H), w_.linear_out, dpre, n, width_ + hidden_,
                       hidden_, djoined, g.linear_out, nullptr, add);
  T* dcontext = grown(m, dcontext_, rows * D);
  ops_.split_columns(djoined, n, width_, hidden_, dcontext, dquery, GradMode::overwrite);

  // c = sum_s a_s M_s, a = masked softmax of the scores.
  const T* weights = weights_.data() + at * source_len_;
  T* dweights = grown(m, dweights_, rows * source_len_);
  ops_.attention_context_backward(weights, memory_, dcontext, count, source_len_, rows_, width_,
                                  dweights, dmemory_.data(), add);
  T* dscores = grown(m, dscores_, rows * source_len_);
  ops_.masked_softmax_backward(weights, dweights, lengths_, count, source_len_, rows_, dscores);

  switch (kind_) {
    case AttentionKind::none: return;
    case AttentionKind::dot:
      ops_.attention_scores_backward(query, memory_, dscores, count, source_len_, rows_, width_,
                                     dquery, dmemory_.data(), add);
      return;
    case AttentionKind::general: {
      // One mode serves both outputs and the memory's must add up: dprojected starts at zero.
      T* dprojected = grown(m, dquery_proj_, rows * D);
      m.zero(dprojected, rows * D * sizeof(T));
      ops_.attention_scores_backward(query_proj_.data() + at * D, memory_, dscores, count,
                                     source_len_, rows_, width_, dprojected, dmemory_.data(),
                                     add);
      break;
    }
    case AttentionKind::additive: {
      T* dprojected = grown(m, dquery_proj_, rows * H);  // starts at zero, as for general
      m.zero(dprojected, rows * H * sizeof(T));
      ops_.additive_scores_backward(query_proj_.data() + at * H, keys_.data(), w_.v, dscores,
                                    count, source_len_, rows_, hidden_, dprojected,
                                    dkeys_.data(), g.v, add);
      T* extra = grown(m, dquery_extra_, rows * H);
      ops_.linear_backward(query, w_.linear_query, dprojected, n, hidden_, hidden_, extra,
                           g.linear_query, g.query_bias, add);
      ops_.accumulate(extra, rows * H, dquery);
      return;
    }
  }
  // general: h -> W_in h.
  T* extra = grown(m, dquery_extra_, rows * H);
  ops_.linear_backward(query, w_.linear_in, dquery_proj_.data(), n, hidden_, width_, extra,
                       g.linear_in, nullptr, add);
  ops_.accumulate(extra, rows * H, dquery);
}

template <typename T>
const T* Attention<T>::finish_backward(const AttentionGrads<T>& g) {
  if (kind_ == AttentionKind::additive) {
    // keys = W_k M was computed once per binding, so its backward runs once too.
    const std::size_t source_rows = static_cast<std::size_t>(source_len_) * rows_;
    T* extra = grown(ops_.memory(), dmemory_extra_, source_rows * width_);
    ops_.linear_backward(memory_, w_.linear_context, dkeys_.data(), source_len_ * rows_, width_,
                         hidden_, extra, g.linear_context, nullptr, GradMode::accumulate);
    ops_.accumulate(extra, source_rows * width_, dmemory_.data());
  }
  return dmemory_.data();
}

template class Attention<float>;
template class Attention<double>;

}  // namespace s2s
