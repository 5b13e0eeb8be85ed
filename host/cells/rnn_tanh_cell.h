// The tanh RNN cell's pointwise math for one unit, forward and backward, written once for the
// CPU loops (host/cpu/rnn_cells.inc) and the CUDA kernels (kernels/rnn_tanh_pointwise.cu), with
// torch.nn.RNN's equation h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).
#pragma once

#include "cells/host_device.h"

namespace s2s::cells {

template <typename T, typename Act>
struct RnnTanhCell {
  static constexpr int kGates = 1;

  S2S_HOST_DEVICE static T gate_input(T x, T bias_ih, T recurrent, T bias_hh) {
    return x + bias_ih + recurrent + bias_hh;
  }
  // The new state (also the cached gate).
  S2S_HOST_DEVICE static T forward(T a) { return Act::tanh(a); }
  // h: the cached output; dh: the full gradient w.r.t. it. Returns w.r.t. the pre-activation.
  S2S_HOST_DEVICE static T backward(T h, T dh) { return dh * (T(1) - h * h); }
};

}  // namespace s2s::cells
