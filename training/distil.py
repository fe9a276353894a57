"""Unlabelled Spanish clinical text for distillation: a teacher model labels it, a student learns from
gold + teacher labels (train.py --silver).

  distil.py prepare --corpus PHARMA --raw RAW_ES --out DIR   one .txt per raw document, DIR/NNN/K.txt
  distil.py join --pred DIR --out FILE                        the teacher's .conll files as one file

`prepare` keeps the SPACCC background and CANTEMIST case reports (CardioCCC is already the auxiliary
corpus) and drops every document that shares an 8-word sequence with a labelled PharmaCoNER document
(train or dev): the background collection contains those texts, and a student must not see the text
of a document it is scored on, even with a teacher's labels."""
import argparse
import glob
import os
import re
import sys

SOURCES = ("spaccc-background.txt", "cantemist.txt")
N = 8


def raw_documents(path):
    """Documents of a raw file: blocks separated by blank lines."""
    block = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.strip():
            block.append(line)
        elif block:
            yield "\n".join(block)
            block = []
    if block:
        yield "\n".join(block)


def words(text):
    return re.findall(r"\w+", text.lower())


def grams(text):
    w = words(text)
    return {" ".join(w[i:i + N]) for i in range(len(w) - N + 1)}


def cmd_prepare(a):
    labelled = set()
    for split in ("train", "dev"):
        for path in glob.glob(os.path.join(a.corpus, split, "*.txt")):
            labelled |= grams(open(path, encoding="utf-8").read())
    kept = dropped = tokens = 0
    for source in SOURCES:
        for doc in raw_documents(os.path.join(a.raw, source)):
            if len(words(doc)) < 20:
                continue
            if grams(doc) & labelled:
                dropped += 1
                continue
            folder = os.path.join(a.out, f"{kept // 1000:03d}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"{kept:05d}.txt"), "w", encoding="utf-8") as f:
                f.write(doc + "\n")
            kept += 1
            tokens += len(doc.split())
    print(f"{kept} documents ({tokens} whitespace tokens) kept, {dropped} dropped as labelled text -> {a.out}")


def cmd_join(a):
    paths = sorted(glob.glob(os.path.join(a.pred, "**", "*.conll"), recursive=True))
    if not paths:
        sys.exit(f"no .conll files under {a.pred}")
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for p in paths:
            out.write(open(p, encoding="utf-8").read().rstrip("\n") + "\n\n")
    os.replace(tmp, a.out)
    print(f"{len(paths)} documents -> {a.out}")


ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
p = sub.add_parser("prepare"); p.add_argument("--corpus", required=True); p.add_argument("--raw", required=True)
p.add_argument("--out", required=True); p.set_defaults(fn=cmd_prepare)
p = sub.add_parser("join"); p.add_argument("--pred", required=True); p.add_argument("--out", required=True)
p.set_defaults(fn=cmd_join)
a = ap.parse_args()
a.fn(a)
