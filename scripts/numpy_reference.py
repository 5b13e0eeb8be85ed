#!/usr/bin/env python3
"""Greedy predictions of an s2s checkpoint rebuilt from its documented metadata alone.

Usage: scripts/numpy_reference.py CHECKPOINT INPUT...

What a PyTorch user does with docs/CHECKPOINT.md, written with numpy so that it runs wherever
the safetensors package does (scripts/torch_reference.py is the same with torch.nn modules).
It reads only the documented fields: format, special_tokens, config, source_vocab,
target_vocab and data.presentation (format 2; format 1's training.data_json too), and the
parameter tensors by their PyTorch names. The cells are torch.nn.LSTM (gates i, f, g, o),
GRU (r, z, n, reset applied after the recurrent product) and RNN (tanh); the decoder modes are
those the metadata's "decoder" key describes; attention (dot, general, additive, with or without
input feeding) follows CHECKPOINT.md's "Attention" equations. Prints one prediction per input, presented as
`s2s predict` presents them. Exit status 1 with a message for anything it cannot do.
"""
import json
import sys


def fail(message):
    print(f"numpy_reference: {message}", file=sys.stderr)
    sys.exit(1)


try:
    import numpy as np
    from safetensors import safe_open
except ImportError as e:
    print(f"numpy_reference: {e} (python3 -m pip install safetensors numpy)", file=sys.stderr)
    sys.exit(2)

FORMATS = ("s2s-checkpoint-2", "s2s-checkpoint-1")
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cell_step(cell, p, layer, x, state):
    """One step of one layer; state is (h, c) for an LSTM, h otherwise. Shapes [H]."""
    w_ih, w_hh = p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"]
    b_ih, b_hh = p[f"bias_ih_l{layer}"], p[f"bias_hh_l{layer}"]
    if cell == "lstm":
        h, c = state
        i, f, g, o = np.split(w_ih @ x + b_ih + w_hh @ h + b_hh, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, (h, c)
    if cell == "gru":
        h = state
        xr, xz, xn = np.split(w_ih @ x + b_ih, 3)
        hr, hz, hn = np.split(w_hh @ h + b_hh, 3)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        return h, h
    h = np.tanh(w_ih @ x + b_ih + w_hh @ state + b_hh)
    return h, h


def run_stack(cell, p, states, x):
    """One step through every layer; returns the top output and the new states."""
    new = []
    for layer, state in enumerate(states):
        x, state = cell_step(cell, p, layer, x, state)
        new.append(state)
    return x, new


def zero_states(c):
    h = np.zeros(c["hidden_size"])
    return [(h, h) if c["cell"] == "lstm" else h for _ in range(c["layers"])]


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, inputs = sys.argv[1], sys.argv[2:]
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k).astype(np.float64) for k in f.keys()
                   if not k.startswith("optimizer.")}
    meta = {k: json.loads(v) for k, v in metadata.items()}
    if meta.get("format") not in FORMATS:
        fail(f"{path}: format {meta.get('format')!r} (expected one of {FORMATS})")
    specials = meta.get("special_tokens", {"pad": 0, "start": 1, "end": 2, "unknown": None})
    start, end, first_symbol = specials["start"], specials["end"], 3
    c = meta["config"]
    if c["output"] != "tokens":
        fail("only models with token outputs are supported")
    data = meta.get("data") or json.loads(meta["training"].get("data_json") or "{}")
    present = data.get("presentation", {})
    source_ids = {s: first_symbol + i for i, s in enumerate(meta["source_vocab"])}
    target_symbols = meta["target_vocab"]

    enc = {k[len("encoder.rnn."):]: v for k, v in tensors.items() if k.startswith("encoder.rnn.")}
    dec = {k[len("decoder.rnn."):]: v for k, v in tensors.items() if k.startswith("decoder.rnn.")}
    w_out, b_out = tensors["decoder.out.weight"], tensors["decoder.out.bias"]
    if c.get("bidirectional"):
        fail("bidirectional encoders are not supported yet")
    kind = c.get("attention", "none")
    att = {k[len("decoder.attention."):]: v for k, v in tensors.items()
           if k.startswith("decoder.attention.")}

    def attend(h, memory):
        """CHECKPOINT.md's attention: h [H] over memory [Ts, D] -> h~ [H]."""
        if kind == "dot":
            scores = memory @ h
        elif kind == "general":
            scores = memory @ (att["linear_in.weight"] @ h)
        else:
            keys = memory @ att["linear_context.weight"].T
            query = att["linear_query.weight"] @ h + att["linear_query.bias"]
            scores = np.tanh(query + keys) @ att["v.weight"][0]
        weights = np.exp(scores - scores.max())
        context = (weights / weights.sum()) @ memory
        return np.tanh(att["linear_out.weight"] @ np.concatenate([context, h]))

    def encoder_input(item):
        if c["input"] == "features":
            return np.atleast_1d(np.asarray(item, dtype=np.float64))
        if c["input"] == "embedding":
            return tensors["encoder.embedding.weight"][item]
        return np.eye(c["source_vocab_size"])[item]

    def decoder_token_input(token):
        if c["input"] == "embedding":
            return tensors["decoder.embedding.weight"][token]
        return np.eye(c["target_vocab_size"])[token]

    for number, text in enumerate(inputs, 1):
        if c["input"] == "features":
            modulus = present.get("modulus") or 1
            source = [[int(v) / modulus] for v in text.replace(",", " ").split()]
        else:
            chars = list(text)
            width = present.get("input_width", 0)
            if width:
                chars += [" "] * (width - len(chars))
                if present.get("input_reversed"):
                    chars.reverse()
            missing = [ch for ch in chars if ch not in source_ids]
            if missing:
                fail(f"input {number}: character '{missing[0]}' is not in the vocabulary")
            source = [source_ids[ch] for ch in chars]
        states = zero_states(c)
        memory = []
        for item in source:
            top, states = run_stack(c["cell"], enc, states, encoder_input(item))
            memory.append(top)
        memory = np.array(memory)
        ids = []
        if c["mode"] == "repeat":
            top = states[-1][0] if c["cell"] == "lstm" else states[-1]
            dstates = zero_states(c)
            for _ in range(c["max_target_length"]):
                y, dstates = run_stack(c["cell"], dec, dstates, top)
                token = int(np.argmax(w_out @ y + b_out))
                if token == end:
                    break
                ids.append(token)
        else:
            token = start
            feed = np.zeros(c["hidden_size"])
            for _ in range(c["max_target_length"]):
                x = decoder_token_input(token)
                if c.get("input_feed"):
                    x = np.concatenate([x, feed])
                y, states = run_stack(c["cell"], dec, states, x)
                if kind != "none":
                    y = feed = attend(y, memory)
                token = int(np.argmax(w_out @ y + b_out))
                if token == end:
                    break
                ids.append(token)
        if present.get("numbers"):
            print(" ".join(str(i - first_symbol) for i in ids if i >= first_symbol))
        else:
            out = "".join(target_symbols[i - first_symbol] for i in ids if i >= first_symbol)
            print(out.rstrip(" ") if present.get("trim_targets") else out)


if __name__ == "__main__":
    main()
