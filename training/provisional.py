"""Provisional tokenizer, used only while `medtag` is not built: writes CoNLL and tokenized text
in the same shapes as `medtag convert --scheme bmewov` and `medtag tokenize`. The shipped model is
trained on medtag's own output (see Makefile `train`)."""
import glob, os, re, sys

TOKEN = re.compile(r"[^\W\d_]+|\d+|\S")


def tokenize_doc(text):
    sents = []
    for m in re.finditer(r"[^\n]+", text):
        line_start = m.start()
        cur = []
        for t in TOKEN.finditer(m.group()):
            cur.append((t.group(), line_start + t.start(), line_start + t.end()))
            if t.group() == "." :
                sents.append(cur); cur = []
        if cur:
            sents.append(cur)
    return sents


def read_ann(path):
    ents = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("T"):
            _, info, _ = line.rstrip("\n").split("\t", 2)
            label, s, e = info.split()[:3]
            ents.append((int(s), int(e), label))
    return ents


def bmewov(sent, ents):
    tags = ["O"] * len(sent)
    for s, e, label in ents:
        idx = [i for i, (_, ts, te) in enumerate(sent) if ts < e and te > s]
        if not idx:
            continue
        if len(idx) == 1:
            tags[idx[0]] = "W-" + label
        else:
            tags[idx[0]] = "B-" + label
            for i in idx[1:-1]:
                tags[i] = "M-" + label
            tags[idx[-1]] = "E-" + label
    return tags


def convert(folder, out):
    with open(out, "w", encoding="utf-8") as f:
        for txt in sorted(glob.glob(os.path.join(folder, "*.txt"))):
            doc = os.path.basename(txt)[:-4]
            text = open(txt, encoding="utf-8").read()
            ents = read_ann(txt[:-4] + ".ann")
            f.write(f"-DOCSTART-\t{doc}\n\n")
            for sent in tokenize_doc(text):
                for (tok, s, e), tag in zip(sent, bmewov(sent, ents)):
                    f.write(f"{tok}\t{s}\t{e}\t{tag}\n")
                f.write("\n")


def tokenize_file(path, out):
    text = open(path, encoding="utf-8").read()
    for sent in tokenize_doc(text):
        out.write(" ".join(t for t, _, _ in sent) + "\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "convert":
        convert(sys.argv[2], sys.argv[3])
    elif cmd == "tokenize":
        with open(sys.argv[-1], "w", encoding="utf-8") as out:
            for p in sys.argv[2:-1]:
                tokenize_file(p, out)
