#!/usr/bin/env python3
"""Greedy predictions of an s2s checkpoint computed by PyTorch, to compare with `s2s predict`.

Usage: scripts/torch_reference.py CHECKPOINT INPUT... [--raw]

Builds the equivalent torch.nn model from the checkpoint's config: encoder and decoder
torch.nn.LSTM/GRU/RNN modules (the encoder bidirectional=True when the checkpoint's is, its
final states reaching the decoder through the checkpoint's bridge), token inputs through torch.nn.Embedding or one-hot vectors,
real-valued inputs as they are, and a torch.nn.Linear head, named so that
load_state_dict(strict=True) takes the checkpoint's parameter tensors as they are (optimizer
tensors are left out). Then decodes greedily as s2s does (ids: 0 pad, 1 start, 2 end):
  repeat           the encoder's top final hidden state is the decoder's input at every one of
                   max_target_length steps, from a zero state; the output stops at the first end;
  teacher_forcing  the decoder starts from the encoder's final states and the start token, and
                   feeds back its argmax until the end token or max_target_length steps.
With attention (config `attention` dot, general or additive; docs/CHECKPOINT.md), each step's
top-layer output h attends over the encoder's outputs M: scores (dot h.M_s, general
(W_in h).M_s, additive v.tanh(W_q h + b_q + W_k M_s)), softmax, context c, and the head reads
h~ = tanh(W_out [c ; h]); with input_feed the decoder's input is [x_t ; h~_{t-1}], h~_0 = 0.
Inputs are presented as `s2s predict` presents them (padding/reversal/numbers from the
checkpoint's data_json) unless --raw. Prints one prediction per input, one per line.
"""
import argparse
import json
import struct
import sys

PAD, START, END = 0, 1, 2
SPECIALS = 3
DTYPES = {"F32": "float32"}


def fail(message):
    print(f"torch_reference: {message}", file=sys.stderr)
    sys.exit(1)


try:
    import torch
    from torch import nn
except ImportError:
    fail("PyTorch is not installed (python3 -m pip install torch)")


def read_safetensors(path):
    """(tensors by name, metadata dict) of a .safetensors file, read by hand."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail(f"{path}: not a safetensors file")
    (header_size,) = struct.unpack("<Q", data[:8])
    if 8 + header_size > len(data):
        fail(f"{path}: truncated safetensors header")
    header = json.loads(data[8:8 + header_size])
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + header_size
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in DTYPES:
            fail(f"{path}: tensor {name} has dtype {entry['dtype']} (expected F32)")
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=torch.float32)
        tensors[name] = flat.reshape(entry["shape"]) if entry["shape"] else flat.reshape(())
    return tensors, metadata


RNN_CLASSES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_kind = c["input"]
        if c["input"] == "embedding":
            self.embedding = nn.Embedding(c["source_vocab_size"], c["embedding_size"])
            size = c["embedding_size"]
        elif c["input"] == "one_hot":
            size = c["source_vocab_size"]
        else:
            size = c["source_features"]
        self.vocab = c["source_vocab_size"]
        self.rnn = RNN_CLASSES[c["cell"]](size, c["hidden_size"], c["layers"],
                                          bidirectional=c.get("bidirectional", False))

    def forward(self, source):
        """source: [T] token ids or [T, F] features -> (outputs [T, 1, H or 2H], the final state (h
        or (h, c)))."""
        if self.input_kind == "embedding":
            x = self.embedding(source)
        elif self.input_kind == "one_hot":
            x = nn.functional.one_hot(source, self.vocab).float()
        else:
            x = source
        outputs, state = self.rnn(x.unsqueeze(1))  # [T, 1, In]
        return outputs, state


class Attention(nn.Module):
    """Luong dot/general or Bahdanau additive scores, softmax, and h~ = tanh(W_out [c ; h])."""

    def __init__(self, kind, hidden, width):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.linear_in = nn.Linear(hidden, width, bias=False)
        elif kind == "additive":
            self.linear_query = nn.Linear(hidden, hidden)
            self.linear_context = nn.Linear(width, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)
        self.linear_out = nn.Linear(width + hidden, hidden, bias=False)

    def forward(self, h, memory):
        """h [1, H], memory [T, 1, D] (one unpadded source) -> h~ [1, H]."""
        m = memory[:, 0]  # [T, D]
        if self.kind == "dot":
            scores = m @ h[0]
        elif self.kind == "general":
            scores = m @ self.linear_in(h)[0]
        else:
            scores = self.v(torch.tanh(self.linear_query(h) + self.linear_context(m)))[:, 0]
        context = torch.softmax(scores, dim=0) @ m  # [D]
        return torch.tanh(self.linear_out(torch.cat([context.unsqueeze(0), h], dim=-1)))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.mode = c["mode"]
        self.vocab = c["target_vocab_size"]
        self.uses_embedding = c["mode"] == "teacher_forcing" and c["input"] == "embedding"
        if c["mode"] == "repeat":
            size = c["hidden_size"]
        elif self.uses_embedding:
            self.embedding = nn.Embedding(c["target_vocab_size"], c["embedding_size"])
            size = c["embedding_size"]
        else:
            size = c["target_vocab_size"]
        self.attention_kind = c.get("attention", "none")
        self.input_feed = c.get("input_feed", False)
        if self.input_feed:
            size += c["hidden_size"]
        self.rnn = RNN_CLASSES[c["cell"]](size, c["hidden_size"], c["layers"])
        if self.attention_kind != "none":
            # The encoder's outputs are H wide, 2H when bidirectional (forward, then reverse).
            width = c["hidden_size"] * (2 if c.get("bidirectional", False) else 1)
            self.attention = Attention(self.attention_kind, c["hidden_size"], width)
        self.out = nn.Linear(c["hidden_size"], c["target_vocab_size"])
        add_bridge(self, c)

    def token_input(self, token):
        if self.uses_embedding:
            return self.embedding(token)
        return nn.functional.one_hot(token, self.vocab).float()


def add_bridge(decoder, c):
    """A linear bridge's maps (docs/CHECKPOINT.md): decoder.bridge_h (and bridge_c for an LSTM
    under teacher forcing), one torch.nn.Linear(2H, H) per bridged layer: every layer, or the
    top one alone for a repeat decoder."""
    if not c.get("bidirectional") or c.get("bridge", "sum") != "linear":
        return
    count = c["layers"] if c["mode"] == "teacher_forcing" else 1
    states = ["h", "c"] if c["cell"] == "lstm" and c["mode"] == "teacher_forcing" else ["h"]
    for state in states:
        setattr(decoder, f"bridge_{state}", nn.ModuleList(
            nn.Linear(2 * c["hidden_size"], c["hidden_size"]) for _ in range(count)))


def bridged(decoder, c, state):
    """A bidirectional encoder's final state (h, or (h, c)), [2L, 1, H] in PyTorch's order
    (layer * 2 + direction), as the decoder's initial state [L, 1, H] through the bridge: sum
    of the two directions, or each bridged layer's Linear over [forward ; reverse]."""
    if not c.get("bidirectional"):
        return state

    def one(s, name):
        layers = s.shape[0] // 2
        forward, reverse = s.view(layers, 2, *s.shape[1:]).unbind(1)
        if c.get("bridge", "sum") == "sum":
            return forward + reverse
        out = torch.zeros_like(forward)
        maps = getattr(decoder, f"bridge_{name}", [])
        first = layers - len(maps)
        for i, linear in enumerate(maps):
            k = first + i
            out[k] = linear(torch.cat([forward[k], reverse[k]], dim=-1))
        return out

    if isinstance(state, tuple):
        return one(state[0], "h"), one(state[1], "c")
    return one(state, "h")


class Seq2Seq(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    @torch.no_grad()
    def greedy(self, source):
        c = self.config
        steps = c["max_target_length"]
        memory, state = self.encoder(source)
        state = bridged(self.decoder, c, state)
        ids = []
        if c["mode"] == "repeat":
            top = (state[0] if c["cell"] == "lstm" else state)[-1]  # [1, H]
            y, _ = self.decoder.rnn(top.unsqueeze(0).expand(steps, 1, top.shape[-1]))
            for logits in self.decoder.out(y[:, 0]):
                token = int(torch.argmax(logits))
                if token == END:
                    break
                ids.append(token)
            return ids
        token = torch.tensor([START])
        feed = torch.zeros(1, c["hidden_size"])
        attention = self.decoder.attention_kind != "none"
        for _ in range(steps):
            x = self.decoder.token_input(token)
            if self.decoder.input_feed:
                x = torch.cat([x, feed], dim=-1)
            y, state = self.decoder.rnn(x.unsqueeze(0), state)
            top = y[0]
            if attention:
                top = feed = self.decoder.attention(top, memory)
            token = torch.argmax(self.decoder.out(top), dim=-1)
            if int(token) == END:
                break
            ids.append(int(token))
        return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    parser.add_argument("--raw", action="store_true",
                        help="inputs and outputs exactly as the model reads and writes them")
    args = parser.parse_args()

    tensors, metadata = read_safetensors(args.checkpoint)
    for key in ("config", "source_vocab", "target_vocab", "training"):
        if key not in metadata:
            fail(f"{args.checkpoint}: no '{key}' in the metadata (not an s2s checkpoint?)")
    config = json.loads(metadata["config"])
    if config["output"] != "tokens":
        fail("only models with token outputs are supported")
    source_symbols = json.loads(metadata["source_vocab"])
    target_symbols = json.loads(metadata["target_vocab"])
    training = json.loads(metadata["training"])
    # Format 2 keeps the data description under its own key; format 1 inside "training".
    data = json.loads(metadata.get("data") or training.get("data_json") or "{}")
    present = data.get("presentation", {}) if not args.raw else {}

    model = Seq2Seq(config)
    parameters = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(parameters, strict=True)
    model.eval()

    source_ids = {s: SPECIALS + i for i, s in enumerate(source_symbols)}
    for number, text in enumerate(args.inputs, 1):
        if config["input"] == "features":
            values = [int(v) for v in text.replace(",", " ").split()]
            modulus = present.get("modulus") or data.get("presentation", {}).get("modulus", 1)
            source = torch.tensor([[v / modulus] for v in values], dtype=torch.float64).float()
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
            source = torch.tensor([source_ids[ch] for ch in chars])
        ids = model.greedy(source)
        if data.get("presentation", {}).get("numbers"):
            print(" ".join(str(i - SPECIALS) for i in ids if i >= SPECIALS))
        else:
            out = "".join(target_symbols[i - SPECIALS] for i in ids if i >= SPECIALS)
            print(out.rstrip(" ") if present.get("trim_targets") else out)


if __name__ == "__main__":
    main()
