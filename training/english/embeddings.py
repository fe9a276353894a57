"""English fastText skip-gram (with subwords) on the training text of BC5CDR and BC2GM (their own
tokens); exports the vectors of the training vocabulary: words.txt (line 0 <unk>) + vectors.npy."""
import argparse, collections, os, sys
import numpy as np
import fasttext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from features import word_key  # noqa: E402
from corpora import load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--corpora", required=True, help="folder with BC5CDR-IOB/ and BC2GM-IOB/")
ap.add_argument("--out", required=True)
ap.add_argument("--dim", type=int, default=100)
ap.add_argument("--epoch", type=int, default=10)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

norm_path = os.path.join(args.out, "corpus.norm")
counts = collections.Counter()
with open(norm_path, "w", encoding="utf-8") as dst:
    for _, sents in load(args.corpora, "train").values():
        for s in sents:
            toks = [word_key(t) for t, _ in s]
            counts.update(toks)
            dst.write(" ".join(toks) + "\n")
print(f"corpus: {sum(counts.values())} tokens, {len(counts)} types", file=sys.stderr)

model = fasttext.train_unsupervised(
    norm_path, model="skipgram", dim=args.dim, epoch=args.epoch, minCount=1, minn=3, maxn=6,
    bucket=200000, thread=args.threads, ws=5, neg=5, lr=0.05, verbose=0)

# Training vocabulary only: words first seen in devel stay unknown, as new words do at run time.
vocab = ["<unk>"] + [w for w, _ in counts.most_common() if w and not any(ch.isspace() for ch in w)]
vecs = np.zeros((len(vocab), args.dim), dtype=np.float32)
for i, w in enumerate(vocab[1:], 1):
    vecs[i] = model.get_word_vector(w)
np.save(os.path.join(args.out, "vectors.npy"), vecs)
with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
    for w in vocab:
        f.write(w + "\n")
os.remove(norm_path)
print(f"kept {len(vocab)} words", file=sys.stderr)
