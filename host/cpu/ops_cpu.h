// The CPU reference ops: one free function per backend op, same name stem and argument order as
// the Ops<T> methods (include/s2s/backend.h, where every argument is documented) and the CUDA
// kernels' launchers. Explicitly instantiated for float and double in each op's .cpp file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "s2s/backend.h"

namespace s2s::cpu {

// host/cpu/rnn_cpu.cpp
std::size_t rnn_workspace_size_cpu(const RnnDims& dims);
// Whether the float cell loops may use their AVX2+FMA copy (default: yes, where the CPU has it);
// returns whether they now do. For tests, which check both copies.
bool allow_avx2_cells(bool allowed);
template <typename T>
void rnn_forward_cpu(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                     const std::int32_t* lengths, const T* h0, const T* c0, T* y, T* hn, T* cn,
                     T* workspace);
template <typename T>
void rnn_backward_cpu(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                      const std::int32_t* lengths, const T* h0, const T* c0, const T* dy,
                      const T* dhn, const T* dcn, T* dx, T* dh0, T* dc0,
                      const RnnLayerGrads<T>* grads, GradMode mode, T* workspace);

// host/cpu/embedding_cpu.cpp
template <typename T>
void embedding_forward_cpu(const T* table, const std::int32_t* tokens, int n, int vocab,
                           int embedding_size, T* out);
template <typename T>
void embedding_backward_cpu(const std::int32_t* tokens, const T* dout, int n, int vocab,
                            int embedding_size, T* dtable, GradMode mode);

// host/cpu/linear_cpu.cpp
template <typename T>
void linear_forward_cpu(const T* x, const T* weight, const T* bias, int n, int in_features,
                        int out_features, T* y);
template <typename T>
void linear_backward_cpu(const T* x, const T* weight, const T* dy, int n, int in_features,
                         int out_features, T* dx, T* dweight, T* dbias, GradMode mode);

// host/cpu/loss_cpu.cpp
template <typename T>
void softmax_cross_entropy_cpu(const T* logits, const std::int32_t* targets,
                               const std::int32_t* lengths, int seq_len, int batch, int vocab,
                               T* loss, T* dlogits);
template <typename T>
void mse_cpu(const T* prediction, const T* target, const std::int32_t* lengths, int seq_len,
             int batch, int features, T* loss, T* dprediction);
template <typename T>
void argmax_cpu(const T* logits, int n, int vocab, std::int32_t* out);
template <typename T>
void log_softmax_cpu(const T* logits, int n, int vocab, T* out);

// host/cpu/elementwise_cpu.cpp
template <typename T>
void tanh_forward_cpu(const T* x, std::size_t n, T* y);
template <typename T>
void tanh_backward_cpu(const T* y, const T* dy, std::size_t n, T* dx);
template <typename T>
void multiply_cpu(const T* x, const T* mask, std::size_t n, T* out);
template <typename T>
void accumulate_cpu(const T* x, std::size_t n, T* y);

// host/cpu/layout_cpu.cpp
template <typename T>
void concat_columns_cpu(const T* a, const T* b, int rows, int a_width, int b_width, T* out);
template <typename T>
void split_columns_cpu(const T* dout, int rows, int a_width, int b_width, T* da, T* db,
                       GradMode mode);
template <typename T>
void reverse_sequences_cpu(const T* x, const std::int32_t* lengths, int seq_len, int batch,
                           int width, T* out);
template <typename T>
void gather_rows_cpu(const T* x, const std::int32_t* index, int groups, int rows_in,
                     int rows_out, int width, T* out);

// host/cpu/repeat_cpu.cpp
template <typename T>
void repeat_forward_cpu(const T* x, int seq_len, int batch, int width, T* out);
template <typename T>
void repeat_backward_cpu(const T* dout, int seq_len, int batch, int width, T* dx, GradMode mode);

// host/cpu/attention_cpu.cpp
template <typename T>
void attention_scores_cpu(const T* query, const T* keys, int query_len, int source_len,
                          int batch, int width, T* scores);
template <typename T>
void attention_scores_backward_cpu(const T* query, const T* keys, const T* dscores,
                                   int query_len, int source_len, int batch, int width,
                                   T* dquery, T* dkeys, GradMode mode);
template <typename T>
void additive_scores_cpu(const T* query, const T* keys, const T* v, int query_len,
                         int source_len, int batch, int width, T* scores);
template <typename T>
void additive_scores_backward_cpu(const T* query, const T* keys, const T* v, const T* dscores,
                                  int query_len, int source_len, int batch, int width,
                                  T* dquery, T* dkeys, T* dv, GradMode mode);
template <typename T>
void masked_softmax_cpu(const T* scores, const std::int32_t* source_lengths, int query_len,
                        int source_len, int batch, T* weights);
template <typename T>
void masked_softmax_backward_cpu(const T* weights, const T* dweights,
                                 const std::int32_t* source_lengths, int query_len,
                                 int source_len, int batch, T* dscores);
template <typename T>
void attention_context_cpu(const T* weights, const T* values, int query_len, int source_len,
                           int batch, int width, T* context);
template <typename T>
void attention_context_backward_cpu(const T* weights, const T* values, const T* dcontext,
                                    int query_len, int source_len, int batch, int width,
                                    T* dweights, T* dvalues, GradMode mode);

// host/cpu/optimizer_cpu.cpp
template <typename T>
void global_norm_cpu(const T* x, std::size_t n, T* out);
template <typename T>
void clip_by_norm_cpu(T* x, std::size_t n, const T* norm, T max_norm);
template <typename T>
void sgd_step_cpu(T* params, const T* grads, T* velocity, std::size_t n, T lr, T momentum);
template <typename T>
void adam_step_cpu(T* params, const T* grads, T* m, T* v, std::size_t n, T lr, T beta1, T beta2,
                   T eps, std::int64_t step);

// host/cpu/beam_cpu.cpp
template <typename T>
void beam_candidates_cpu(const T* log_probs, const T* beam_scores, int batch, int beams,
                         int vocab, int count, T* scores_out, std::int32_t* ids_out);

}  // namespace s2s::cpu
