"""Reads the English token-per-line corpora (token<TAB>IOB tag, blank line between sentences) and
says which labels each one annotates. The corpora's own tokens are used as they are."""
import os

# Labels each corpus annotates. A token tagged O in one corpus may still belong to a label that
# corpus does not annotate: training treats it as unknown for those labels (partial annotation).
CORPORA = {
    "BC5CDR": ("BC5CDR-IOB", ("Chemical", "Disease")),
    "BC2GM": ("BC2GM-IOB", ("GENE",)),
    "NCBI-disease": ("NCBI-disease-IOB", ("Disease",)),
}
# The corpora the model is measured on: their devel splits choose the checkpoint (mean F1) and give
# the scores; the others only add training sentences.
SCORED = ("BC5CDR", "BC2GM")
LABELS = sorted({l for _, labels in CORPORA.values() for l in labels})


def read_iob(path):
    """[[(token, tag)]]"""
    sents, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if cur:
                sents.append(cur)
                cur = []
            continue
        cols = line.split("\t")
        if cols[0] == "-DOCSTART-":
            continue
        cur.append((cols[0], cols[-1] if len(cols) > 1 else "O"))
    if cur:
        sents.append(cur)
    return sents


def iob_to_bioes(tags):
    """IOB2 (I- after O or another label counts as B-) -> BIOES."""
    out = []
    n = len(tags)
    for i, t in enumerate(tags):
        if t == "O":
            out.append("O")
            continue
        label = t[2:]
        begins = t[0] == "B" or i == 0 or tags[i - 1] == "O" or tags[i - 1][2:] != label
        nxt = tags[i + 1] if i + 1 < n else "O"
        continues = nxt != "O" and nxt[0] == "I" and nxt[2:] == label
        if begins:
            out.append(("B-" if continues else "S-") + label)
        else:
            out.append(("I-" if continues else "E-") + label)
    return out


def load(root, split, names=SCORED):
    """{corpus: (labels, [[(token, bioes_tag)]])} for split 'train' or 'devel' of the corpora `names`."""
    out = {}
    for name in names:
        folder, labels = CORPORA[name]
        sents = read_iob(os.path.join(root, folder, f"{split}.tsv"))
        out[name] = (labels, [list(zip([t for t, _ in s], iob_to_bioes([g for _, g in s]))) for s in sents])
    return out
