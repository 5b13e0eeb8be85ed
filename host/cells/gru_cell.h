// The GRU cell's pointwise math for one unit j of one batch row, forward and backward, written
// once for the CPU loops (host/cpu/rnn_cells.inc) and the CUDA kernels (kernels/gru_pointwise.cu),
// with torch.nn.GRU's equations (gates r, z, n):
//   r = σ(a_r), z = σ(a_z), n = tanh(x_n + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h
// where a = x W_ih^T + b_ih + h W_hh^T + b_hh, summed in that order (gate_input).
#pragma once

#include "cells/host_device.h"

namespace s2s::cells {

template <typename T>
struct GruForward {
  T r, z, n;          // activated gates: the backward's cache
  T recurrent_new;    // W_hn h_{t-1} + b_hn, the term r multiplies (cached as hh_new)
  T h;                // the new state
};

template <typename T>
struct GruBackward {
  T dr, dz, dn;   // gradients w.r.t. the input-side pre-activations
  T dn_hh;        // w.r.t. W_hn h + b_hn (the recurrent side's n differs: it is dn * r)
  T dh_direct;    // w.r.t. h_{t-1} through h' = ... + z h (W_hh adds the rest)
};

template <typename T, typename Act>
struct GruCell {
  static constexpr int kGates = 3;

  S2S_HOST_DEVICE static T gate_input(T x, T bias_ih, T recurrent, T bias_hh) {
    return x + bias_ih + recurrent + bias_hh;
  }

  // a_r, a_z: full pre-activations (gate_input); x_n: input side of n, bias_ih included
  // (x + b_in); recurrent_n, bias_hn: W_hn h_{t-1} and b_hn.
  S2S_HOST_DEVICE static GruForward<T> forward(T a_r, T a_z, T x_n, T recurrent_n, T bias_hn,
                                               T h_prev) {
    GruForward<T> out;
    out.r = Act::sigmoid(a_r);
    out.z = Act::sigmoid(a_z);
    out.recurrent_new = recurrent_n + bias_hn;
    out.n = Act::tanh(x_n + out.r * out.recurrent_new);
    out.h = (T(1) - out.z) * out.n + out.z * h_prev;
    return out;
  }

  // r, z, n: the forward's gates; h_prev: h_{t-1}; recurrent_new: the cached hh_new; dh: the
  // full gradient w.r.t. h_t.
  S2S_HOST_DEVICE static GruBackward<T> backward(T r, T z, T n, T h_prev, T recurrent_new,
                                                 T dh) {
    GruBackward<T> out;
    out.dn = dh * (T(1) - z) * (T(1) - n * n);
    out.dz = dh * (h_prev - n) * z * (T(1) - z);
    out.dr = out.dn * recurrent_new * r * (T(1) - r);
    out.dn_hh = out.dn * r;
    out.dh_direct = dh * z;
    return out;
  }
};

}  // namespace s2s::cells
