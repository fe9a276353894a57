"""Writes English benchmark texts from the devel splits of BC5CDR and BC2GM (tokens only, joined by
spaces; ten sentences a document) and the same tokens as medtag CoNLL for the PyTorch side."""
import argparse, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpora import read_iob, CORPORA, SCORED  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--corpora", required=True)
ap.add_argument("--texts", required=True)
ap.add_argument("--conll", required=True)
ap.add_argument("--per-document", type=int, default=10)
args = ap.parse_args()
os.makedirs(args.texts, exist_ok=True)
sents = []
for folder, _ in (CORPORA[name] for name in SCORED):
    sents += [[t for t, _ in s] for s in read_iob(os.path.join(args.corpora, folder, "devel.tsv"))]
with open(args.conll, "w", encoding="utf-8") as conll:
    for d in range(0, len(sents), args.per_document):
        doc_id = f"en-{d // args.per_document:05d}"
        conll.write(f"-DOCSTART-\t{doc_id}\n\n")
        text, pos = [], 0
        for s in sents[d:d + args.per_document]:
            for t in s:
                conll.write(f"{t}\t{pos}\t{pos + len(t)}\tO\n")
                pos += len(t) + 1
            conll.write("\n")
            text.append(" ".join(s))
        with open(os.path.join(args.texts, doc_id + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(text) + "\n")
print(f"{len(sents)} sentences, {sum(map(len, sents))} tokens", file=sys.stderr)
