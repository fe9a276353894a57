"""Reads medtag CoNLL: token<TAB>start<TAB>end<TAB>tag, blank line between sentences,
-DOCSTART-<TAB>docid line before each document."""


def read_conll(path):
    """Returns [(doc_id, [sentence]), ...]; a sentence is [(token, start, end, tag)]."""
    docs = []
    sent = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if sent:
                docs[-1][1].append(sent)
                sent = []
            continue
        cols = line.split("\t")
        if cols[0] == "-DOCSTART-":
            if sent:
                docs[-1][1].append(sent)
                sent = []
            docs.append((cols[1] if len(cols) > 1 else "", []))
            continue
        if not docs:
            docs.append(("", []))
        tok, start, end = cols[0], int(cols[1]), int(cols[2])
        tag = cols[3] if len(cols) > 3 else "O"
        sent.append((tok, start, end, tag))
    if sent:
        docs[-1][1].append(sent)
    return docs


def sentences(docs):
    return [s for _, ss in docs for s in ss]
