// The backend interface: memory and whole-sequence layer ops, each with forward and backward.
// host/cpu/ implements it as the reference (float and double), host/cuda/ on NVIDIA GPUs (float).
// The model (host/model/) is written once against it.
//
// Adding an op touches: this interface; host/cpu/<op>_cpu.cpp (the reference, same name stem and
// argument order as the kernel); kernels/<op>.cu and host/cuda/cuda_ops.cpp when the CUDA backend
// has it; one test case in tests/test_ops_cpu.cpp (finite differences) and one in
// tests/test_cuda_parity.cpp (against the CPU).
//
// Pointer conventions: every array lives in the backend's memory (host memory for the CPU,
// device memory for CUDA) unless said otherwise; shapes are in brackets, row-major, time-major
// ([T, B, X] means index (t * B + b) * X + x). "nullable" means nullptr is allowed and says what
// it stands for. Outputs are overwritten unless the argument says "accumulated per mode".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s2s/config.h"

namespace s2s {

// Where a model computes. auto = CUDA when built with CUDA and a device is usable, else CPU.
enum class BackendKind { cpu, cuda, automatic };

std::string to_string(BackendKind kind);
// Accepts "cpu", "cuda", "auto"; throws Error otherwise.
BackendKind parse_backend(const std::string& name);

// True when the library was built with CUDA support.
bool cuda_built();
// Number of CUDA devices usable by this process (0 when not built with CUDA or none present).
int cuda_device_count();

// One compute device as shown to users (`s2s devices`).
struct DeviceInfo {
  BackendKind kind = BackendKind::cpu;
  int index = 0;
  std::string name;
  std::size_t memory_bytes = 0;
  std::string detail;  // e.g. "compute capability 9.0, 132 SMs"
};
// The CPU first, then each usable GPU.
std::vector<DeviceInfo> list_devices();

// The CUDA device that models built afterwards in this process use (default 0). A data-parallel
// rank sets its own GPU (Communicator::cuda_device()). Throws Error for a negative device.
void set_cuda_device(int device);
int cuda_device();

// Resolves automatic to cpu or cuda; throws Error for cuda when CUDA is not built or no device
// is usable (saying which).
BackendKind resolve_backend(BackendKind requested);

// The arithmetic of float32 GEMMs, as PyTorch's torch.backends.cuda.matmul.allow_tf32.
// fp32 (the default): exact float32. tf32: the CUDA backend's GEMMs may use TF32 tensor cores
// (inputs rounded to a 10-bit mantissa: faster, not exact float32; cuBLAS' math mode). It is
// a permission, not a demand: the CPU computes exact float32 (float) or float64 either way, as
// PyTorch ignores allow_tf32 on the CPU.
enum class Precision { fp32, tf32 };

std::string to_string(Precision precision);
// Accepts "fp32", "tf32"; throws Error otherwise.
Precision parse_precision(const std::string& name);

// Whether a backward pass overwrites parameter gradients or adds to them (explicit, never silent).
enum class GradMode { overwrite, accumulate };

// Raw memory of one backend. Pointers it returns are only valid with that backend's ops.
class Memory {
 public:
  virtual ~Memory() = default;
  // Throws Error when the bytes cannot be had (saying how many were asked for). allocate(0)
  // returns a pointer that may be released.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* pointer) noexcept = 0;
  // host -> backend, backend -> host, backend -> backend; bytes may be 0; regions must not
  // overlap.
  virtual void upload(void* destination, const void* host_source, std::size_t bytes) = 0;
  virtual void download(void* host_destination, const void* source, std::size_t bytes) = 0;
  virtual void copy(void* destination, const void* source, std::size_t bytes) = 0;
  virtual void zero(void* destination, std::size_t bytes) = 0;
  // Blocks until all queued work is done (a no-op on the CPU).
  virtual void synchronize() = 0;
};

// Shape of a stack of recurrent layers run over a padded batch.
struct RnnDims {
  CellType cell = CellType::lstm;
  int layers = 1;
  int input_size = 0;   // In: features per step of layer 0 (vocabulary size in one-hot mode)
  int hidden_size = 0;  // H
  int seq_len = 0;      // T
  int batch = 0;        // B
};

// Layer k's parameters, PyTorch layout: weight_ih [G*H, In_k] (In_0 = input_size, else H),
// weight_hh [G*H, H], bias_ih [G*H], bias_hh [G*H].
template <typename T>
struct RnnLayerWeights {
  const T* weight_ih = nullptr;
  const T* weight_hh = nullptr;
  const T* bias_ih = nullptr;
  const T* bias_hh = nullptr;
};

// Layer k's parameter gradients, same shapes as RnnLayerWeights; accumulated per GradMode.
template <typename T>
struct RnnLayerGrads {
  T* dweight_ih = nullptr;
  T* dweight_hh = nullptr;
  T* dbias_ih = nullptr;
  T* dbias_hh = nullptr;
};

// Layer 0's input: exactly one of x (dense) and tokens (one-hot) is set.
template <typename T>
struct RnnInput {
  // [T, B, In]; padded rows must be finite (they meet zero gradients inside GEMMs, and
  // 0 * NaN is NaN): the model zeroes them.
  const T* x = nullptr;
  // [T, B], each in [0, In) at real steps (padded steps are not read): one-hot rows, gathered.
  const std::int32_t* tokens = nullptr;
  // With x: x is [B, In], the input of every step (Keras' RepeatVector, the repeat decoder).
  // Layer 0's input projection, its weight gradient and dx then cost one GEMM over B rows each
  // instead of T * B, and dx receives [B, In], the sum over steps. Only for backends whose
  // supports_repeated_input() is true; the others get x materialised as [T, B, In].
  bool x_repeated = false;
};

// Whole-sequence ops on one backend for element type T (float, or double on the CPU).
// Every op may be called with any sizes >= 1; ops do not validate (the model does, once per
// batch, before anything reaches a backend).
template <typename T>
class Ops {
 public:
  virtual ~Ops() = default;
  virtual BackendKind kind() const = 0;
  virtual Memory& memory() = 0;

  // ---- recurrent stack ---------------------------------------------------------------------
  // lengths: [B], each in [1, T]. Step t of sequence b is real when t < lengths[b]; a padded
  // step leaves every state unchanged, writes zeros to y, and receives and sends no gradient.

  // Elements of T that rnn_forward caches for rnn_backward plus rnn_backward's scratch.
  virtual std::size_t rnn_workspace_size(const RnnDims& dims) const = 0;

  // Whether rnn_forward and rnn_backward accept RnnInput::x_repeated.
  virtual bool supports_repeated_input() const { return false; }

  // weights: host array of dims.layers entries (pointers into backend memory).
  // h0, c0: [L, B, H] initial states, nullable (zeros); c0 is read for LSTM only.
  // y: [T, B, H] top layer outputs (zeros at padded steps), nullable: they are also in the
  //   workspace (rnn_top_output in host/rnn_workspace.h), where the model reads them for long
  //   sequences instead of keeping a second copy.
  // hn, cn: [L, B, H] final states (the state after each sequence's last real step); nullable;
  //   cn is written for LSTM only.
  // workspace: rnn_workspace_size(dims) elements; rnn_backward reads what this call leaves.
  virtual void rnn_forward(const RnnDims& dims, const RnnLayerWeights<T>* weights,
                           RnnInput<T> input, const std::int32_t* lengths, const T* h0,
                           const T* c0, T* y, T* hn, T* cn, T* workspace) = 0;

  // Same dims, weights, input, lengths, h0, c0 and workspace as the rnn_forward before it.
  // dy: [T, B, H] gradient of the loss w.r.t. y, nullable (zeros).
  // dhn, dcn: [L, B, H] gradients w.r.t. hn and cn, nullable (zeros); dcn LSTM only.
  // dx: [T, B, In] overwritten, nullable (not wanted); must be null in one-hot mode.
  // dh0, dc0: [L, B, H] overwritten, nullable (not wanted).
  // grads: host array of dims.layers entries, accumulated per mode.
  // The workspace's cache may be overwritten (run rnn_forward again before another backward).
  virtual void rnn_backward(const RnnDims& dims, const RnnLayerWeights<T>* weights,
                            RnnInput<T> input, const std::int32_t* lengths, const T* h0,
                            const T* c0, const T* dy, const T* dhn, const T* dcn, T* dx,
                            T* dh0, T* dc0, const RnnLayerGrads<T>* grads, GradMode mode,
                            T* workspace) = 0;

  // ---- embedding: out[n, :] = table[tokens[n], :] -----------------------------------------
  // table: [V, E]; tokens: [N], each in [0, V); out: [N, E].
  virtual void embedding_forward(const T* table, const std::int32_t* tokens, int n, int vocab,
                                 int embedding_size, T* out) = 0;
  // dout: [N, E]; dtable: [V, E] accumulated per mode (rows of repeated tokens summed in
  // token-position order, so the result is deterministic).
  virtual void embedding_backward(const std::int32_t* tokens, const T* dout, int n, int vocab,
                                  int embedding_size, T* dtable, GradMode mode) = 0;

  // ---- linear: y = x W^T + b ----------------------------------------------------------------
  // x: [N, In]; weight: [Out, In]; bias: [Out], nullable (none); y: [N, Out].
  virtual void linear_forward(const T* x, const T* weight, const T* bias, int n, int in_features,
                              int out_features, T* y) = 0;
  // dy: [N, Out]; dx: [N, In] overwritten, nullable; dweight: [Out, In] and dbias: [Out]
  // (nullable) accumulated per mode.
  virtual void linear_backward(const T* x, const T* weight, const T* dy, int n, int in_features,
                               int out_features, T* dx, T* dweight, T* dbias, GradMode mode) = 0;

  // ---- losses over a padded [T, B] batch; row t*B+b is real when t < lengths[b] ------------
  // Mean softmax cross-entropy over real rows. logits: [T, B, V]; targets: [T, B] in [0, V)
  // (read at real rows only); lengths: [B] in [0, T]; loss: [1]; dlogits: [T, B, V] overwritten
  // with d(loss)/d(logits) (zeros at padded rows), nullable. May alias nothing. With no real
  // row at all the loss is 0 and the gradient all zeros.
  virtual void softmax_cross_entropy(const T* logits, const std::int32_t* targets,
                                     const std::int32_t* lengths, int seq_len, int batch,
                                     int vocab, T* loss, T* dlogits) = 0;
  // Mean squared error over the real rows' F values. prediction, target: [T, B, F];
  // loss: [1]; dprediction: [T, B, F] overwritten (zeros at padded rows), nullable.
  virtual void mse(const T* prediction, const T* target, const std::int32_t* lengths,
                   int seq_len, int batch, int features, T* loss, T* dprediction) = 0;
  // Row-wise argmax of logits [N, V] into out [N] (first maximum on ties; a NaN counts as the
  // maximum, as in torch.argmax).
  virtual void argmax(const T* logits, int n, int vocab, std::int32_t* out) = 0;

  // ---- repeat: out[t, b, :] = x[b, :] for every t (Keras' RepeatVector) ----------------------
  // x: [B, H]; out: [T, B, H].
  virtual void repeat_forward(const T* x, int seq_len, int batch, int width, T* out) = 0;
  // dout: [T, B, H]; dx: [B, H] = sum over t of dout, accumulated per mode.
  virtual void repeat_backward(const T* dout, int seq_len, int batch, int width, T* dx,
                               GradMode mode) = 0;

  // ---- attention (Luong dot/general, Bahdanau additive; docs/CHECKPOINT.md) -------------------
  // Shapes: query [Tq, B, D] (decoder side), keys and values [Ts, B, D] (encoder outputs),
  // scores and weights [B, Tq, Ts] (batch-major: one [Tq, Ts] matrix per sequence, the form of
  // a strided batched GEMM), source_lengths [B] in [1, Ts].

  // scores[b, q, s] = sum_d query[q, b, d] * keys[s, b, d].
  virtual void attention_scores(const T* query, const T* keys, int query_len, int source_len,
                                int batch, int width, T* scores) = 0;
  // dscores [B, Tq, Ts]; dquery [Tq, B, D] and dkeys [Ts, B, D] accumulated per mode, each
  // nullable (not wanted).
  virtual void attention_scores_backward(const T* query, const T* keys, const T* dscores,
                                         int query_len, int source_len, int batch, int width,
                                         T* dquery, T* dkeys, GradMode mode) = 0;
  // Bahdanau's score on projected inputs: scores[b, q, s] = sum_a v[a] *
  // tanh(query[q, b, a] + keys[s, b, a]); query [Tq, B, A], keys [Ts, B, A], v [A].
  virtual void additive_scores(const T* query, const T* keys, const T* v, int query_len,
                               int source_len, int batch, int width, T* scores) = 0;
  // dquery [Tq, B, A], dkeys [Ts, B, A], dv [A]: accumulated per mode, each nullable.
  virtual void additive_scores_backward(const T* query, const T* keys, const T* v,
                                        const T* dscores, int query_len, int source_len,
                                        int batch, int width, T* dquery, T* dkeys, T* dv,
                                        GradMode mode) = 0;
  // weights[b, q, :] = softmax over s < source_lengths[b] of scores[b, q, :]; weight 0 at the
  // padded positions s >= source_lengths[b] (whatever their scores, NaN included).
  virtual void masked_softmax(const T* scores, const std::int32_t* source_lengths,
                              int query_len, int source_len, int batch, T* weights) = 0;
  // dscores = weights * (dweights - sum_s weights * dweights), overwritten (0 at padded s).
  virtual void masked_softmax_backward(const T* weights, const T* dweights,
                                       const std::int32_t* source_lengths, int query_len,
                                       int source_len, int batch, T* dscores) = 0;
  // context[q, b, d] = sum_s weights[b, q, s] * values[s, b, d]; context [Tq, B, D].
  virtual void attention_context(const T* weights, const T* values, int query_len,
                                 int source_len, int batch, int width, T* context) = 0;
  // dcontext [Tq, B, D]; dweights [B, Tq, Ts] overwritten, nullable; dvalues [Ts, B, D]
  // accumulated per mode, nullable.
  virtual void attention_context_backward(const T* weights, const T* values, const T* dcontext,
                                          int query_len, int source_len, int batch, int width,
                                          T* dweights, T* dvalues, GradMode mode) = 0;

  // ---- elementwise and layout -------------------------------------------------------------------
  // y = tanh(x), n values; y may alias x.
  virtual void tanh_forward(const T* x, std::size_t n, T* y) = 0;
  // dx = dy * (1 - y^2), overwritten; y is tanh_forward's output; dx may alias dy.
  virtual void tanh_backward(const T* y, const T* dy, std::size_t n, T* dx) = 0;
  // out[r, :] = [a[r, :], b[r, :]]: a [rows, a_width], b [rows, b_width],
  // out [rows, a_width + b_width].
  virtual void concat_columns(const T* a, const T* b, int rows, int a_width, int b_width,
                              T* out) = 0;
  // The backward of concat_columns: da [rows, a_width] and db [rows, b_width] take the two
  // column blocks of dout; accumulated per mode, each nullable.
  virtual void split_columns(const T* dout, int rows, int a_width, int b_width, T* da, T* db,
                             GradMode mode) = 0;
  // out = x * mask elementwise, n values (dropout with a mask of 0 and 1/(1-p)); out may alias x.
  virtual void multiply(const T* x, const T* mask, std::size_t n, T* out) = 0;
  // y += x, n values.
  virtual void accumulate(const T* x, std::size_t n, T* y) = 0;
  // Each sequence reversed within its length: out[t, b, :] = x[lengths[b] - 1 - t, b, :] for
  // t < lengths[b], zeros for t >= lengths[b]. x, out [T, B, X], no aliasing; lengths [B] in
  // [1, T]. Its own backward (apply it to the gradient).
  virtual void reverse_sequences(const T* x, const std::int32_t* lengths, int seq_len, int batch,
                                 int width, T* out) = 0;
  // Rows picked from the middle axis: out[g, r, :] = x[g, index[r], :] for g < groups,
  // r < rows_out; x [groups, rows_in, W], index [rows_out] in [0, rows_in), out
  // [groups, rows_out, W], no aliasing. Beam search reorders states [L, N, H] and expands
  // encoder outputs [Ts, B, D] to [Ts, B*K, D] with it.
  virtual void gather_rows(const T* x, const std::int32_t* index, int groups, int rows_in,
                           int rows_out, int width, T* out) = 0;

  // ---- decoding -----------------------------------------------------------------------------------
  // Row-wise log-softmax of logits [N, V] into out [N, V] (out may alias logits).
  virtual void log_softmax(const T* logits, int n, int vocab, T* out) = 0;
  // One beam-search expansion, on the device: for each source b, the `count` best of its
  // beams * V candidates, candidate (k, v) scoring beam_scores[b*K + k] + log_probs[b*K + k, v],
  // in descending score order, ties to the lower k * V + v, a NaN score below every number. log_probs [B*K, V];
  // beam_scores [B*K]; scores_out [B, count]; ids_out [B, count] = k * V + v.
  // count <= beams * V.
  virtual void beam_candidates(const T* log_probs, const T* beam_scores, int batch, int beams,
                               int vocab, int count, T* scores_out, std::int32_t* ids_out) = 0;

  // ---- whole flat buffers ----------------------------------------------------------------------
  // out[0] = sqrt(sum of x[i]^2) (NaN/inf propagate, so it doubles as a finiteness check).
  virtual void global_norm(const T* x, std::size_t n, T* out) = 0;
  // Clip by global norm (tf.clip_by_global_norm): x *= max_norm / max(norm[0], max_norm).
  // norm: [1], as written by global_norm. A non-finite norm sets every value to NaN (as
  // TensorFlow does) rather than silently zeroing them.
  virtual void clip_by_norm(T* x, std::size_t n, const T* norm, T max_norm) = 0;
  // SGD with momentum, PyTorch's form: v = momentum * v + g; p -= lr * v (v untouched and
  // p -= lr * g when momentum == 0). params, velocity: [n] updated; grads: [n].
  virtual void sgd_step(T* params, const T* grads, T* velocity, std::size_t n, T lr,
                        T momentum) = 0;
  // Adam, Keras' form: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // p -= lr * sqrt(1-b2^step)/(1-b1^step) * m / (sqrt(v) + eps). step counts from 1.
  virtual void adam_step(T* params, const T* grads, T* m, T* v, std::size_t n, T lr, T beta1,
                         T beta2, T eps, std::int64_t step) = 0;
};

// The CPU reference backend (host memory, CBLAS GEMMs), for float and double.
template <typename T>
std::unique_ptr<Ops<T>> make_cpu_ops();
template <>
std::unique_ptr<Ops<float>> make_cpu_ops<float>();
template <>
std::unique_ptr<Ops<double>> make_cpu_ops<double>();

// The CUDA backend on device `device` with the given GEMM precision; throws Error when CUDA is
// not built or no device is usable.
std::unique_ptr<Ops<float>> make_cuda_ops(int device = 0, Precision precision = Precision::fp32);

// The backend asked for, resolved as resolve_backend does (precision: see Precision).
template <typename T>
std::unique_ptr<Ops<T>> make_ops(BackendKind kind, Precision precision = Precision::fp32);

}  // namespace s2s
