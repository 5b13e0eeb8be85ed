#!/usr/bin/env python3
"""The pq-system as `s2s train --task pq` learns it, in PyTorch: natural-length questions and
answers, an end token closing each answer, the loss masked beyond it, batches of equal length.

    s2s gen --task pq --max-dashes 100 --seed 1 > pq100.tsv
    python3 bench/peers/torch_pq.py learn pq100.tsv --metrics torch.jsonl
    python3 bench/peers/torch_pq.py speed --steps 2001 --batch 128 --iterations 2

The model is the one s2s builds for pq: one-hot characters into torch.nn.LSTM(128) (the encoder);
its final h and c start a second torch.nn.LSTM(128) (the decoder) fed the answer shifted right
behind a start token (teacher forcing); a Linear layer to the answer characters and the end token;
mean cross-entropy over the real answer positions; Adam lr 1e-3 (Keras' eps 1e-7), batch 32.

learn: a seeded 90/10 split of the file (the last 10% of a shuffle held out); batches drawn from
the training questions sorted by length (a stable sort after a shuffle, cut every batch, the
batches shuffled: s2s' length buckets); every --eval-every steps greedy decoding of the held-out
questions (of --eval-examples of them) gives exact match; it stops at --target. One JSON line per
validation: step, elapsed seconds since training started, val_exact_match.

speed: training steps on one batch of --batch questions of --steps characters (pq's longest:
2,001), after one warm-up step; prints examples per second of wall time and of this process'
CPU time (the fairer figure on a shared machine). Denormals are flushed (torch.set_flush_denormal)
unless --keep-denormals, as s2s does.
"""
import argparse
import json
import random
import sys
import time

PAD, START, END = 0, 1, 2


def read_pairs(path):
    pairs = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        sys.exit(f"torch_pq: {path}: cannot read pairs ({e.strerror})")
    with f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0] or not parts[1]:
                sys.exit(f"torch_pq: {path}:{number}: expected question<TAB>answer")
            pairs.append((parts[0], parts[1]))
    if not pairs:
        sys.exit(f"torch_pq: {path}: no pairs")
    return pairs


def build_model(torch, nn, source_vocab, target_vocab, hidden):
    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.source_vocab, self.target_vocab = source_vocab, target_vocab
            self.encoder = nn.LSTM(source_vocab, hidden)
            self.decoder = nn.LSTM(target_vocab, hidden)
            self.out = nn.Linear(hidden, target_vocab)

        def encode(self, sources, lengths):  # [T, B] ids, [B] lengths
            # Packed, so that a shorter question's final state is taken at its own last
            # character, not after the padding (s2s masks by length the same way).
            x = nn.functional.one_hot(sources, self.source_vocab).float()
            if bool((lengths == sources.shape[0]).all()):  # nothing to mask: the plain LSTM
                _, state = self.encoder(x)
                return state
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            _, state = self.encoder(packed)
            return state

        def forward(self, sources, lengths, decoder_inputs):
            state = self.encode(sources, lengths)
            y, _ = self.decoder(nn.functional.one_hot(decoder_inputs, self.target_vocab).float(),
                                state)
            return self.out(y)

    return Seq2Seq()


def learn(args):
    pairs = read_pairs(args.pairs)  # refused before PyTorch is imported (and without it)
    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    source_chars = sorted({c for q, _ in pairs for c in q})
    target_chars = sorted({c for _, a in pairs for c in a})
    s_id = {c: i + 3 for i, c in enumerate(source_chars)}
    t_id = {c: i + 3 for i, c in enumerate(target_chars)}
    rng = random.Random(args.seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    n_valid = len(pairs) // 10
    train = [pairs[i] for i in order[:len(pairs) - n_valid]]
    valid = [pairs[i] for i in order[len(pairs) - n_valid:]][:args.eval_examples or None]
    model = build_model(torch, nn, len(source_chars) + 3, len(target_chars) + 3, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)

    def tensors(batch):
        ts = max(len(q) for q, _ in batch)
        tt = max(len(a) for _, a in batch) + 1
        src = torch.zeros(ts, len(batch), dtype=torch.long)
        tgt = torch.zeros(tt, len(batch), dtype=torch.long)
        for b, (q, a) in enumerate(batch):
            src[:len(q), b] = torch.tensor([s_id[c] for c in q])
            tgt[:len(a) + 1, b] = torch.tensor([t_id[c] for c in a] + [END])
        dec_in = torch.cat([torch.full((1, len(batch)), START, dtype=torch.long), tgt[:-1]])
        lengths = torch.tensor([len(q) for q, _ in batch])
        return src, lengths, dec_in, tgt

    def exact_match():
        model.eval()
        right = 0
        with torch.no_grad():
            by_length = sorted(valid, key=lambda p: len(p[0]))
            for i in range(0, len(by_length), 256):
                batch = by_length[i:i + 256]
                src, lengths, _, tgt = tensors(batch)
                h, c = model.encode(src, lengths)
                token = torch.full((1, len(batch)), START, dtype=torch.long)
                written = []
                done = torch.zeros(len(batch), dtype=torch.bool)
                for _ in range(tgt.shape[0] + 1):
                    y, (h, c) = model.decoder(
                        nn.functional.one_hot(token, model.target_vocab).float(), (h, c))
                    token = model.out(y).argmax(-1)
                    written.append(token[0])
                    done |= token[0] == END
                    if bool(done.all()):
                        break
                written = torch.stack(written)  # [steps, B]
                for b, (_, a) in enumerate(batch):
                    want = [t_id[ch] for ch in a] + [END]
                    got = written[:len(want), b].tolist()
                    right += got == want
        model.train()
        return right / len(valid)

    step, start = 0, time.perf_counter()
    out = open(args.metrics, "w") if args.metrics else None
    for epoch in range(1, args.epochs + 1):
        shuffled = train[:]
        rng.shuffle(shuffled)
        shuffled.sort(key=lambda p: (len(p[1]), len(p[0])))  # stable: shuffled within a length
        batches = [shuffled[i:i + args.batch] for i in range(0, len(shuffled), args.batch)]
        rng.shuffle(batches)
        for batch in batches:
            src, lengths, dec_in, tgt = tensors(batch)
            logits = model(src, lengths, dec_in)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % args.eval_every == 0:
                train_seconds = time.perf_counter() - start
                em = exact_match()
                record = {"peer": "torch", "epoch": epoch, "step": step,
                          "elapsed": time.perf_counter() - start,
                          "train_seconds": train_seconds, "loss": float(loss),
                          "val_exact_match": em, "val_examples": len(valid)}
                print(json.dumps(record), flush=True)
                if out:
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                if em >= args.target:
                    return 0
    return 0


def speed(args):
    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    model = build_model(torch, nn, 5, 5, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    steps, batch = args.steps, args.batch
    src = torch.full((steps, batch), 3, dtype=torch.long)
    for b in range(batch):
        src[1 + b % (steps - 1), b] = 4
    tgt = torch.full((steps, batch), 3, dtype=torch.long)
    tgt[0] = 4
    dec_in = torch.cat([torch.full((1, batch), START, dtype=torch.long), tgt[:-1]])

    lengths = torch.full((batch,), steps, dtype=torch.long)

    def one_step():
        logits = model(src, lengths, dec_in)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    one_step()  # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.iterations):
        one_step()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    print(json.dumps({"peer": "torch", "steps": steps, "batch": batch, "threads": args.threads,
                      "examples_per_second": batch * args.iterations / seconds,
                      "examples_per_cpu_second": batch * args.iterations / cpu_seconds,
                      "seconds_per_step": seconds / args.iterations}), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("learn", "speed"):
        p = sub.add_parser(name)
        p.add_argument("--hidden", type=int, default=128)
        p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--keep-denormals", action="store_true")
    p = sub.choices["learn"]
    p.add_argument("pairs", help="question<TAB>answer lines (s2s gen --task pq)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--eval-examples", type=int, default=0, help="0: all held-out questions")
    p.add_argument("--target", type=float, default=0.99)
    p.add_argument("--metrics", default="")
    p = sub.choices["speed"]
    p.add_argument("--steps", type=int, default=2001)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iterations", type=int, default=2)
    args = parser.parse_args()
    for name in ("threads", "hidden"):
        if getattr(args, name) < 1:
            sys.exit(f"torch_pq: --{name} must be 1 or more")
    return learn(args) if args.command == "learn" else speed(args)


if __name__ == "__main__":
    sys.exit(main())
