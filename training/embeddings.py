"""Trains fastText skip-gram (with subwords) and exports the vectors of the kept vocabulary:
words.txt (one key a line; line 0 is <unk>) + vectors.npy.

- es: tokenized Spanish clinical text (`medtag tokenize`, one sentence a line); words seen twice or
  more plus every train/dev token and gazetteer entry are kept.
- en: the training text of the English corpora (their own tokens), plus raw tokenized text given with
  --raw (one sentence a line); the training vocabulary is kept, and the raw text's words seen
  --min-count times or more. Devel text is never read: a devel word is known only when the training
  or raw text has it, as a new word at run time."""
import argparse, collections, os, sys
import numpy as np
import fasttext

from features import word_key, load_gazetteer
from conll import read_conll, sentences

ap = argparse.ArgumentParser()
ap.add_argument("--language", choices=["es", "en"], default="es")
ap.add_argument("--corpus", help="es: tokenized text, one sentence a line")
ap.add_argument("--conll", nargs="+", default=[], help="es: CoNLL files whose tokens are all kept")
ap.add_argument("--gazetteer", help="es: gazetteer whose entries are all kept")
ap.add_argument("--corpora", help="en: folder with the corpora of english/corpora.py (train splits)")
ap.add_argument("--raw", nargs="*", default=[], help="en: raw tokenized text, one sentence a line")
ap.add_argument("--out", required=True)
ap.add_argument("--dim", type=int, default=100)
ap.add_argument("--epoch", type=int, default=10)
ap.add_argument("--min-count", type=int, default=2)
ap.add_argument("--threads", type=int)
args = ap.parse_args()
if args.threads is None:
    args.threads = 2 if args.language == "es" else 1
os.makedirs(args.out, exist_ok=True)

norm_path = os.path.join(args.out, "corpus.norm")
counts = collections.Counter()
def corpus_lines():
    if args.language == "en":
        from english.corpora import load, CORPORA
        for _, sents in load(args.corpora, "train", CORPORA).values():
            for s in sents:
                yield [t for t, _ in s]
        yield None  # the raw text follows
        for path in args.raw:
            with open(path, encoding="utf-8") as src:
                for line in src:
                    yield line.split()
    else:
        with open(args.corpus, encoding="utf-8") as src:
            for line in src:
                yield line.split()


raw_counts = collections.Counter()
with open(norm_path, "w", encoding="utf-8") as dst:
    seen = counts
    for line in corpus_lines():
        if line is None:
            seen = raw_counts
            continue
        toks = [word_key(t) for t in line]
        if toks or args.language == "en":
            seen.update(toks)
            dst.write(" ".join(toks) + "\n")
print(f"corpus: {sum(counts.values())} tokens, {len(counts)} types"
      + (f"; raw text: {sum(raw_counts.values())} tokens, {len(raw_counts)} types" if raw_counts else ""),
      file=sys.stderr)

model = fasttext.train_unsupervised(
    norm_path, model="skipgram", dim=args.dim, epoch=args.epoch, minCount=1, minn=3, maxn=6,
    bucket=200000, thread=args.threads, ws=5, neg=5, lr=0.05, verbose=0)

if args.language == "en":
    keep = [w for w, _ in counts.most_common() if w and not any(ch.isspace() for ch in w)]
    kept = set(keep)
    keep += [w for w, c in raw_counts.most_common()
             if c >= args.min_count and w not in kept and not any(ch.isspace() for ch in w)]
else:
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
