// The LSTM cell's pointwise math for one unit j of one batch row, forward and backward, written
// once for the CPU loops (host/cpu/rnn_cells.inc) and the CUDA kernels (kernels/lstm_pointwise.cu),
// with torch.nn.LSTM's equations (gates i, f, g, o):
//   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o), c' = f c + i g, h' = o tanh(c')
// where a = x W_ih^T + b_ih + h W_hh^T + b_hh, summed in that order (gate_input).
// Act supplies sigmoid and tanh: the CPU's float polynomials or the math library (the kernels).
#pragma once

#include "cells/host_device.h"

namespace s2s::cells {

template <typename T>
struct LstmForward {
  T i, f, g, o;  // activated gates: the backward's cache
  T c, h;        // the new cell state and output
};

template <typename T>
struct LstmBackward {
  T di, df, dg, do_;  // gradients w.r.t. the pre-activations a_i, a_f, a_g, a_o
  T dc_prev;          // gradient w.r.t. c_{t-1} (h_{t-1} gets its part through W_hh)
};

template <typename T, typename Act>
struct LstmCell {
  static constexpr int kGates = 4;

  // One gate's pre-activation: input side, its bias, recurrent side, its bias (this order on
  // every backend, so that float sums round alike).
  S2S_HOST_DEVICE static T gate_input(T x, T bias_ih, T recurrent, T bias_hh) {
    return x + bias_ih + recurrent + bias_hh;
  }

  S2S_HOST_DEVICE static LstmForward<T> forward(T a_i, T a_f, T a_g, T a_o, T c_prev) {
    const T i = Act::sigmoid(a_i);
    const T f = Act::sigmoid(a_f);
    const T g = Act::tanh(a_g);
    const T o = Act::sigmoid(a_o);
    const T c = f * c_prev + i * g;
    return {i, f, g, o, c, o * Act::tanh(c)};
  }

  // i, f, g, o: the forward's activated gates; c_prev, c_now: the cell state before and after;
  // dh: the full gradient w.r.t. h_t (carried plus the output's); dc: w.r.t. c_t carried from
  // step t+1.
  S2S_HOST_DEVICE static LstmBackward<T> backward(T i, T f, T g, T o, T c_prev, T c_now, T dh,
                                                  T dc) {
    const T tanh_c = Act::tanh(c_now);
    const T dc_total = dc + dh * o * (T(1) - tanh_c * tanh_c);
    LstmBackward<T> r;
    r.di = dc_total * g * i * (T(1) - i);
    r.df = dc_total * c_prev * f * (T(1) - f);
    r.dg = dc_total * i * (T(1) - g * g);
    r.do_ = dh * tanh_c * o * (T(1) - o);
    r.dc_prev = dc_total * f;
    return r;
  }
};

}  // namespace s2s::cells
