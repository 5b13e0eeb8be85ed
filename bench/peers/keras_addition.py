#!/usr/bin/env python3
"""Seed 001's Keras addition model (LSTM -> RepeatVector -> LSTM -> softmax), trained on a pair
file written by `s2s gen`, so that s2s and Keras see the same questions; one JSON line per epoch.

    s2s gen --task addition --digits 3 --reverse --size 50000 > pairs.tsv
    python3 bench/peers/keras_addition.py pairs.tsv --epochs 30 --metrics keras.jsonl

Needs TensorFlow (`python3 -m pip install tensorflow-cpu`); runs on the CPU. The validation set
is the last 10% of the file, or, with `--valid FILE`, the pairs of that file (the whole first file
is then trained on). `s2s train --data train.tsv --valid valid.tsv` takes exactly the same split,
which is how scripts/compare_peers.sh makes both sides hold out the same examples (s2s's own
`--valid-split` draws a seeded random subset instead of the file's tail).
"""
import argparse
import json
import os
import sys
import time

from addition_data import AdditionData, add_data_arguments

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # the comparison is CPU against CPU
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF's choice)")
    args = parser.parse_args()
    data = AdditionData(args)

    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    tf.keras.utils.set_random_seed(args.seed)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)

    chars, in_len, out_len, split = data.chars, data.in_len, data.out_len, data.split

    def one_hot(texts, length):
        x = np.zeros((len(texts), length, len(chars)), dtype=np.float32)
        for i, text in enumerate(texts):
            x[i, np.arange(length), data.ids(text, length)] = 1
        return x

    x = one_hot([p[0] for p in data.pairs], in_len)
    y = one_hot([p[1] for p in data.pairs], out_len)
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]

    model = keras.Sequential([
        keras.Input(shape=(in_len, len(chars))),
        keras.layers.LSTM(args.hidden),
        keras.layers.RepeatVector(out_len),
        keras.layers.LSTM(args.hidden, return_sequences=True),
        keras.layers.Dense(len(chars), activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    out = open(args.metrics, "w") if args.metrics else None
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1,
                            validation_data=(x_val, y_val), verbose=0)
        fit_seconds = time.perf_counter() - start
        predicted = model.predict(x_val, batch_size=1024, verbose=0).argmax(-1)
        exact = float((predicted == y_val.argmax(-1)).all(axis=1).mean())
        # Like s2s' per-epoch seconds: training, validation loss/accuracy and the greedy
        # predictions behind exact match.
        seconds = time.perf_counter() - start
        record = {
            "epoch": epoch,
            "loss": history.history["loss"][0],
            "accuracy": history.history["accuracy"][0],
            "val_loss": history.history["val_loss"][0],
            "val_accuracy": history.history["val_accuracy"][0],
            "val_exact_match": exact,
            "seconds": seconds,
            "fit_seconds": fit_seconds,
        }
        print(json.dumps(record), flush=True)
        if out:
            out.write(json.dumps(record) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
