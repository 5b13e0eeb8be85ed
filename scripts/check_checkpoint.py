#!/usr/bin/env python3
"""Checks an s2s checkpoint with the Python safetensors package, independently of the C++ reader.

Usage: check_checkpoint.py CHECKPOINT

Recomputes the parameter layout from the config in the metadata (the rules of
host/model/parameters.cpp), then checks that the file holds exactly those tensors (F32, PyTorch
names and shapes), plus, when the metadata names an optimizer, one optimizer.<state>.<name>
tensor per parameter and state with the parameter's shape. Exits 1 with a message otherwise,
and 2 when the safetensors or numpy package is missing (scripts/setup.sh installs them).
"""
import json
import sys

FORMATS = ("s2s-checkpoint-2", "s2s-checkpoint-1")  # written, and still read (docs/CHECKPOINT.md)
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def fail(message):
    print(f"check_checkpoint: {message}", file=sys.stderr)
    sys.exit(1)


def parameter_layout(c):
    """(name, shape) of every parameter in buffer order, as parameter_layout() in C++."""
    gates = GATES[c["cell"]] * c["hidden_size"]
    hidden = c["hidden_size"]
    encoder_input = {"embedding": c["embedding_size"], "one_hot": c["source_vocab_size"],
                     "features": c["source_features"]}[c["input"]]
    decoder_embedding = (c["mode"] == "teacher_forcing" and c["output"] == "tokens"
                         and c["input"] == "embedding")
    if c["mode"] == "repeat":
        decoder_input = hidden
    elif c["output"] == "features":
        decoder_input = c["target_features"]
    else:
        decoder_input = c["embedding_size"] if decoder_embedding else c["target_vocab_size"]
    attention = c.get("attention", "none")
    if c.get("input_feed"):
        decoder_input += hidden  # the fed-back attentional vector (docs/CHECKPOINT.md)
    width = 2 * hidden if c.get("bidirectional") else hidden  # D, the encoder outputs' width
    output = c["target_vocab_size"] if c["output"] == "tokens" else c["target_features"]

    layout = []

    def rnn(prefix, input_size):
        for k in range(c["layers"]):
            layout.append((f"{prefix}.weight_ih_l{k}", (gates, input_size if k == 0 else hidden)))
            layout.append((f"{prefix}.weight_hh_l{k}", (gates, hidden)))
            layout.append((f"{prefix}.bias_ih_l{k}", (gates,)))
            layout.append((f"{prefix}.bias_hh_l{k}", (gates,)))

    if c["input"] == "embedding":
        layout.append(("encoder.embedding.weight", (c["source_vocab_size"], c["embedding_size"])))
    rnn("encoder.rnn", encoder_input)
    if decoder_embedding:
        layout.append(("decoder.embedding.weight", (c["target_vocab_size"], c["embedding_size"])))
    rnn("decoder.rnn", decoder_input)
    if attention == "general":
        layout.append(("decoder.attention.linear_in.weight", (width, hidden)))
    if attention == "additive":
        layout.append(("decoder.attention.linear_query.weight", (hidden, hidden)))
        layout.append(("decoder.attention.linear_query.bias", (hidden,)))
        layout.append(("decoder.attention.linear_context.weight", (hidden, width)))
        layout.append(("decoder.attention.v.weight", (1, hidden)))
    if attention != "none":
        layout.append(("decoder.attention.linear_out.weight", (hidden, width + hidden)))
    layout.append(("decoder.out.weight", (output, hidden)))
    layout.append(("decoder.out.bias", (output,)))
    return layout


def optimizer_states(optimizer):
    """The state tensors' prefixes an optimizer keeps (seq2seq.cpp optimizer_state())."""
    if optimizer is None:
        return []
    if optimizer["kind"] == "adam":
        return ["optimizer.m", "optimizer.v"]
    return ["optimizer.velocity"] if optimizer["momentum"] > 0 else []


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path = sys.argv[1]
    try:
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
    except ImportError as e:
        print(f"check_checkpoint: {e}; install with: python3 -m pip install safetensors numpy "
              "(scripts/setup.sh does)", file=sys.stderr)
        sys.exit(2)

    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
        tensors = load_file(path)
    except Exception as e:  # the package's own checks refused the file
        fail(f"{path}: the safetensors package cannot read it: {e}")

    def meta(key, required=True):
        if key not in metadata:
            if required:
                fail(f"{path}: no '{key}' in __metadata__")
            return None
        try:
            return json.loads(metadata[key])
        except json.JSONDecodeError as e:
            fail(f"{path}: __metadata__ '{key}' is not JSON: {e}")

    if meta("format") not in FORMATS:
        fail(f"{path}: format is {metadata.get('format')!r}, expected one of {FORMATS!r} as JSON "
             "text")
    if meta("format") == FORMATS[0]:
        specials = meta("special_tokens")
        if specials != {"pad": 0, "start": 1, "end": 2, "unknown": None}:
            fail(f"{path}: special_tokens is {specials!r}")
        if not isinstance(meta("s2s_version"), str):
            fail(f"{path}: s2s_version is not a JSON string")
        data = meta("data", required=False)
        if data is not None and not isinstance(data, dict):
            fail(f"{path}: data is not a JSON object")
    config = meta("config")
    source_vocab, target_vocab = meta("source_vocab"), meta("target_vocab")
    optimizer = meta("optimizer", required=False)
    training = meta("training")

    if config["input"] != "features" and len(source_vocab) + 3 != config["source_vocab_size"]:
        fail(f"{path}: {len(source_vocab)} source symbols + 3 specials != source_vocab_size "
             f"{config['source_vocab_size']}")
    if config["output"] == "tokens" and len(target_vocab) + 3 != config["target_vocab_size"]:
        fail(f"{path}: {len(target_vocab)} target symbols + 3 specials != target_vocab_size "
             f"{config['target_vocab_size']}")

    layout = parameter_layout(config)
    expected = {name: shape for name, shape in layout}
    states = optimizer_states(optimizer)
    for state in states:
        for name, shape in layout:
            expected[f"{state}.{name}"] = shape

    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        fail(f"{path}: missing tensors: {', '.join(missing)}")
    if unexpected:
        fail(f"{path}: unexpected tensors: {', '.join(unexpected)}")
    for name, shape in expected.items():
        array = tensors[name]
        if array.dtype != np.float32:
            fail(f"{path}: tensor '{name}' has dtype {array.dtype}, expected float32")
        if tuple(array.shape) != tuple(shape):
            fail(f"{path}: tensor '{name}' has shape {list(array.shape)}, the config implies "
                 f"{list(shape)}")
        if not np.all(np.isfinite(array)):
            fail(f"{path}: tensor '{name}' holds non-finite values")

    # What a PyTorch user keeps for load_state_dict(strict=True): the parameters, nothing else.
    state_dict = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    if sorted(state_dict) != sorted(name for name, _ in layout):
        fail(f"{path}: the non-optimizer tensors are not exactly the parameters")

    count = sum(int(np.prod(shape)) for _, shape in layout)
    opt = (f"{optimizer['kind']} at step {optimizer['step']}, state: "
           f"{', '.join(s.split('.', 1)[1] for s in states) or 'none'}" if optimizer else "none")
    print(f"{path}: ok: {config['cell']} H={config['hidden_size']} layers={config['layers']} "
          f"{config['mode']}, input {config['input']}, output {config['output']}; "
          f"{len(layout)} parameter tensors ({count} values); optimizer {opt}; "
          f"vocabularies {len(source_vocab)}+{len(target_vocab)} symbols; "
          f"epoch {training['epoch']}, step {training['step']}")


if __name__ == "__main__":
    main()
