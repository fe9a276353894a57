"""Trains fastText skip-gram (with subwords) on tokenized Spanish clinical text and exports the
vectors of the kept vocabulary: words.txt (one key a line; line 0 is <unk>) + vectors.npy."""
import argparse, collections, os, sys
import numpy as np
import fasttext

from features import word_key, load_gazetteer
from conll import read_conll, sentences

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", required=True, help="tokenized text, one sentence a line")
ap.add_argument("--conll", nargs="+", required=True)
ap.add_argument("--gazetteer", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--dim", type=int, default=100)
ap.add_argument("--epoch", type=int, default=10)
ap.add_argument("--min-count", type=int, default=2)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

norm_path = os.path.join(args.out, "corpus.norm")
counts = collections.Counter()
with open(args.corpus, encoding="utf-8") as src, open(norm_path, "w", encoding="utf-8") as dst:
    for line in src:
        toks = [word_key(t) for t in line.split()]
        if toks:
            counts.update(toks)
            dst.write(" ".join(toks) + "\n")
print(f"corpus: {sum(counts.values())} tokens, {len(counts)} types", file=sys.stderr)

model = fasttext.train_unsupervised(
    norm_path, model="skipgram", dim=args.dim, epoch=args.epoch, minCount=1, minn=3, maxn=6,
    bucket=200000, thread=args.threads, ws=5, neg=5, lr=0.05, verbose=0)

keep = [w for w, c in counts.most_common() if c >= args.min_count]
kept = set(keep)
extra = set()
for path in args.conll:
    for s in sentences(read_conll(path)):
        for tok, *_ in s:
            extra.add(word_key(tok))
for w in load_gazetteer(args.gazetteer):
    extra.add(word_key(w))
for w in sorted(extra - kept):
    if w and not any(ch.isspace() for ch in w):
        keep.append(w)
vocab = ["<unk>"] + keep
vecs = np.zeros((len(vocab), args.dim), dtype=np.float32)
for i, w in enumerate(vocab[1:], 1):
    vecs[i] = model.get_word_vector(w)
np.save(os.path.join(args.out, "vectors.npy"), vecs)
with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
    for w in vocab:
        f.write(w + "\n")
os.remove(norm_path)
print(f"kept {len(vocab)} words", file=sys.stderr)
