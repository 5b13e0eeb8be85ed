#!/usr/bin/env python3
"""Seed 001's addition model in PyTorch (LSTM -> repeat -> LSTM -> linear + softmax cross-entropy),
trained on a pair file written by `s2s gen`, so that s2s and PyTorch see the same questions; one
JSON line per epoch, with the same fields as bench/peers/keras_addition.py.

    s2s gen --task addition --digits 3 --reverse --size 50000 > pairs.tsv
    python3 bench/peers/torch_addition.py pairs.tsv --epochs 30 --device cuda --metrics torch.jsonl

The model is the one `s2s train --mode repeat` builds: one-hot characters into torch.nn.LSTM(H),
its final hidden state repeated over the answer's length into a second torch.nn.LSTM(H) (zero
initial state), a Linear layer to the characters, mean cross-entropy over the answer positions;
Adam with Keras' defaults (lr 1e-3, eps 1e-7). On CUDA, torch.nn.LSTM runs cuDNN; TF32 is off
unless --tf32 (s2s computes exact float32). The validation set is the last 10% of the file, or
the pairs of --valid FILE. Per-epoch seconds cover training, the validation loss and accuracy,
and the greedy predictions behind exact match (synchronised on CUDA).
"""
import argparse
import json
import sys
import time

from addition_data import AdditionData, add_data_arguments


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN and cuBLAS")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's choice)")
    args = parser.parse_args()
    data = AdditionData(args)

    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("torch_addition: --device cuda but PyTorch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    device = torch.device(args.device)

    chars, out_len, split = data.chars, data.out_len, data.split

    # Inputs as character ids (one-hot on the device), targets as ids; all of it moves to the
    # device once, like s2s' batches.
    x_ids = torch.tensor([data.ids(p[0], data.in_len) for p in data.pairs], dtype=torch.long)
    y_ids = torch.tensor([data.ids(p[1], out_len) for p in data.pairs], dtype=torch.long)
    x_train, y_train = x_ids[:split].to(device), y_ids[:split].to(device)
    x_val, y_val = x_ids[split:].to(device), y_ids[split:].to(device)

    class AdditionModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(len(chars), args.hidden, batch_first=True)
            self.decoder = nn.LSTM(args.hidden, args.hidden, batch_first=True)
            self.output = nn.Linear(args.hidden, len(chars))

        def forward(self, ids):
            one_hot = nn.functional.one_hot(ids, len(chars)).float()
            _, (h, _) = self.encoder(one_hot)
            repeated = h[-1].unsqueeze(1).expand(-1, out_len, -1)
            decoded, _ = self.decoder(repeated)
            return self.output(decoded)

    model = AdditionModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def evaluate(x, y):
        model.eval()
        loss_sum, correct, exact, count = 0.0, 0, 0, 0
        with torch.no_grad():
            for start in range(0, x.shape[0], 1024):
                logits = model(x[start:start + 1024])
                target = y[start:start + 1024]
                loss_sum += float(loss_fn(logits.reshape(-1, len(chars)), target.reshape(-1))) * \
                    target.shape[0]
                predicted = logits.argmax(-1)
                correct += int((predicted == target).sum())
                exact += int((predicted == target).all(dim=1).sum())
                count += target.shape[0]
        model.train()
        return loss_sum / count, correct / (count * out_len), exact / count

    generator = torch.Generator().manual_seed(args.seed)
    out = open(args.metrics, "w") if args.metrics else None
    for epoch in range(1, args.epochs + 1):
        synchronize()
        start = time.perf_counter()
        order = torch.randperm(x_train.shape[0], generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for first in range(0, x_train.shape[0], args.batch_size):
            rows = order[first:first + args.batch_size]
            logits = model(x_train[rows])
            target = y_train[rows]
            loss = loss_fn(logits.reshape(-1, len(chars)), target.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * rows.shape[0]
            correct += (logits.detach().argmax(-1) == target).sum()
        val_loss, val_accuracy, val_exact = evaluate(x_val, y_val)
        synchronize()
        seconds = time.perf_counter() - start
        record = {
            "epoch": epoch,
            "loss": float(loss_sum) / x_train.shape[0],
            "accuracy": int(correct) / (x_train.shape[0] * out_len),
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "val_exact_match": val_exact,
            "seconds": seconds,
        }
        print(json.dumps(record), flush=True)
        if out:
            out.write(json.dumps(record) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
