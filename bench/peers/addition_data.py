"""The data side shared by the addition peers (keras_addition.py, torch_addition.py): their common
command-line flags, the pair files written by `s2s gen`, the train/validation split that
`s2s train --data F --valid V` takes too, and the character vocabulary."""
import sys


def add_data_arguments(parser):
    parser.add_argument("pairs", help="TSV of input<TAB>target lines (s2s gen)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--valid-split", type=float, default=0.1)
    parser.add_argument("--valid", help="TSV of validation pairs (overrides --valid-split)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--metrics", help="write one JSON object per epoch here")


def read_pairs(path):
    """The (input, target) pairs of a TSV file; exits with the file and line of a bad one."""
    pairs = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n").rstrip("\r")
                if not line:
                    continue
                fields = line.split("\t")
                if len(fields) < 2:
                    sys.exit(f"{path}:{number}: expected input<TAB>target, found no tab")
                pairs.append((fields[0], fields[1]))
    except (OSError, UnicodeDecodeError) as e:
        sys.exit(f"{path}: cannot read pairs ({e})")
    if not pairs:
        sys.exit(f"{path}: no pairs")
    return pairs


class AdditionData:
    """All pairs (training first), where validation starts, and the characters, with the space
    that pads inputs and answers to in_len and out_len."""

    def __init__(self, args):
        self.pairs = read_pairs(args.pairs)
        n_train = len(self.pairs)
        if args.valid:
            self.pairs += read_pairs(args.valid)
            self.split = n_train
        else:
            self.split = len(self.pairs) - int(round(len(self.pairs) * args.valid_split))
        self.chars = sorted({c for inp, tgt in self.pairs for c in inp + tgt} | {" "})
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.in_len = max(len(p[0]) for p in self.pairs)
        self.out_len = max(len(p[1]) for p in self.pairs)

    def ids(self, text, length):
        """Character ids of text, space-padded to length."""
        return [self.index[c] for c in text.ljust(length)]
