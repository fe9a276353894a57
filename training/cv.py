"""K-fold cross-validation over every labelled document: Spanish (PharmaCoNER train + dev) and
English (BC5CDR train + devel).

  cv.py folds    --corpus DIR --out training/cv/folds-es.tsv    the fixed assignment (written once, kept in the repo)
  cv.py split    --corpus DIR --folds F --fold K --out DIR      DIR/train and DIR/test: links to fold K's documents
  cv.py en-folds --corpora EN --out training/cv/folds-en.tsv    the English assignment (groups of 10 sentences)
  cv.py en-split --corpora EN --folds F --fold K --out DIR      DIR/en/<corpus>-IOB/{train,devel}.tsv + DIR/test.tsv
  cv.py vectors  --model M --out DIR                             a shipped model's word vectors as train.py reads them
  cv.py ensemble-result --out RUN MEMBER_RUN...                 an ensemble's training facts from its members'
  cv.py record   --scores JSON --run RUN --fold K --out FILE    one fold's figures (scores + training facts)
  cv.py summary  RESULTS... [--against RESULTS]                 per fold, mean ± sd, per label; paired test
  cv.py ablation [--base RESULTS] RESULTS[@BASE]...             one row a configuration, paired with its base

Spanish folds are by document: 5 folds of 150 documents, each with 100 train and 50 dev documents,
assigned by a seeded shuffle of the sorted document names, so every document is scored exactly once.
English folds are by group of 10 consecutive sentences of BC5CDR train + devel (the files carry no
abstract boundaries), each fold with the same share of train and of devel groups; the other English
corpora (BC2GM, NCBI-disease) are always on the training side, all their splits.
"""
import argparse
import glob
import json
import math
import os
import random
import sys

FOLDS = 5


def documents(corpus):
    """(split, name) of every labelled document, sorted."""
    out = []
    for split in ("train", "dev"):
        for path in sorted(glob.glob(os.path.join(corpus, split, "*.ann"))):
            out.append((split, os.path.basename(path)[:-4]))
    return out


def read_folds(path):
    folds = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        name, split, fold = line.rstrip("\n").split("\t")
        folds[name] = (split, int(fold))
    return folds


def cmd_folds(a):
    if os.path.exists(a.out):
        sys.exit(f"{a.out} exists: the assignment is fixed once made")
    docs = documents(a.corpus)
    rows = []
    for split in ("train", "dev"):  # each fold gets the same share of train and of dev documents
        names = [n for s, n in docs if s == split]
        random.Random(20261206).shuffle(names)
        rows += [(n, split, k % FOLDS) for k, n in enumerate(names)]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(f"# document<TAB>split<TAB>fold ({FOLDS} folds; cv.py folds)\n")
        for n, s, k in sorted(rows):
            f.write(f"{n}\t{s}\t{k}\n")
    print(f"{len(rows)} documents in {FOLDS} folds -> {a.out}")


def cmd_split(a):
    folds = read_folds(a.folds)
    have = {n for _, n in documents(a.corpus)}
    missing = have ^ set(folds)
    if missing:
        sys.exit(f"{a.folds} and {a.corpus} disagree on {len(missing)} document(s), e.g. {sorted(missing)[:3]}")
    for part in ("train", "test"):
        d = os.path.join(a.out, part)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    for name, (split, fold) in folds.items():
        part = "test" if fold == a.fold else "train"
        for ext in ("txt", "ann"):
            os.symlink(os.path.abspath(os.path.join(a.corpus, split, f"{name}.{ext}")),
                       os.path.join(a.out, part, f"{name}.{ext}"))
    n = sum(1 for _, f in folds.values() if f == a.fold)
    print(f"fold {a.fold}: {len(folds) - n} training documents, {n} test documents")


EN_GROUP = 10  # sentences a group; also the document size `medtag tag-conll --document-sentences` scores
EN_SCORED = "BC5CDR"  # the corpus the English folds split
EN_TRAINING = {"BC2GM": ("train", "devel"), "NCBI-disease": ("train", "devel", "test")}  # always trained on


def iob_sentences(path):
    """The sentences of a token-per-line file, each as its lines (kept verbatim)."""
    out, cur = [], []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            cur.append(line if line.endswith("\n") else line + "\n")
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def en_groups(en):
    """{(split, index): [sentence]} of BC5CDR train + devel, in groups of EN_GROUP sentences."""
    groups = {}
    for split in ("train", "devel"):
        sents = iob_sentences(os.path.join(en, f"{EN_SCORED}-IOB", f"{split}.tsv"))
        for g in range(0, len(sents), EN_GROUP):
            groups[(split, g // EN_GROUP)] = sents[g:g + EN_GROUP]
    return groups


def cmd_en_folds(a):
    if os.path.exists(a.out):
        sys.exit(f"{a.out} exists: the assignment is fixed once made")
    groups = en_groups(a.corpora)
    rows = []
    for split in ("train", "devel"):  # each fold gets the same share of train and of devel groups
        ids = [g for s, g in sorted(groups) if s == split]
        random.Random(20261206).shuffle(ids)
        rows += [(split, g, k % FOLDS) for k, g in enumerate(ids)]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(f"# {EN_SCORED} split<TAB>group of {EN_GROUP} sentences (0-based)<TAB>fold ({FOLDS} folds; cv.py en-folds)\n")
        for s, g, k in sorted(rows):
            f.write(f"{s}\t{g}\t{k}\n")
    print(f"{len(rows)} groups in {FOLDS} folds -> {a.out}")


def write_sentences(path, sents):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for s in sents:
            f.write("".join(s) + "\n")
    os.replace(path + ".tmp", path)


def cmd_en_split(a):
    """Fold K's groups become DIR/test.tsv; the rest, with the other corpora, train. Every `holdout`-th
    group of each corpus's training side is its devel split (early stopping); with --fold -1 every
    group trains and, with --holdout-trains, the held-out groups are trained on too (devel then only
    logs)."""
    folds = {}
    for line in open(a.folds, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        s, g, k = line.split()
        folds[(s, int(g))] = int(k)
    groups = en_groups(a.corpora)
    if set(groups) != set(folds):
        sys.exit(f"{a.folds} and {a.corpora} disagree on {len(set(groups) ^ set(folds))} group(s)")

    def divide(group_list):
        train, devel = [], []
        for i, g in enumerate(group_list):
            held = a.holdout and i % a.holdout == a.holdout - 1
            (devel if held else train).extend(g)
            if held and a.holdout_trains:
                train.extend(g)
        return train, devel

    test = [s for key in sorted(groups) if folds[key] == a.fold for s in groups[key]]
    train, devel = divide([groups[key] for key in sorted(groups) if folds[key] != a.fold])
    write_sentences(os.path.join(a.out, "en", f"{EN_SCORED}-IOB", "train.tsv"), train)
    write_sentences(os.path.join(a.out, "en", f"{EN_SCORED}-IOB", "devel.tsv"), devel)
    if a.fold >= 0:
        write_sentences(os.path.join(a.out, "test.tsv"), test)
    counts = [f"{EN_SCORED} {len(train)}/{len(devel)}"]
    for name, splits in EN_TRAINING.items():
        sents = [s for split in splits for s in iob_sentences(os.path.join(a.corpora, f"{name}-IOB", f"{split}.tsv"))]
        t, d = divide([sents[i:i + EN_GROUP] for i in range(0, len(sents), EN_GROUP)])
        write_sentences(os.path.join(a.out, "en", f"{name}-IOB", "train.tsv"), t)
        write_sentences(os.path.join(a.out, "en", f"{name}-IOB", "devel.tsv"), d)
        counts.append(f"{name} {len(t)}/{len(d)}")
    print(f"fold {a.fold}: training/held-out sentences {', '.join(counts)}; {len(test)} test sentences")


def cmd_vectors(a):
    """The word vectors a shipped model carries (the fp16 values the engine reads), for train.py --emb."""
    import numpy as np
    from safetensors.numpy import load_file
    os.makedirs(a.out, exist_ok=True)
    vectors = load_file(os.path.join(a.model, "weights.safetensors"))["word.weight"].astype(np.float32)
    np.save(os.path.join(a.out, "vectors.npy"), vectors)
    with open(os.path.join(a.model, "words.txt"), encoding="utf-8") as f, \
            open(os.path.join(a.out, "words.txt"), "w", encoding="utf-8") as g:
        g.write(f.read())


def cmd_ensemble_result(a):
    """result.json for an ensemble of runs: the members' training time summed, their epochs."""
    rs = [json.load(open(os.path.join(r, "result.json"))) for r in a.members]
    os.makedirs(a.out, exist_ok=True)
    json.dump({"epoch": "+".join(str(r["epoch"]) for r in rs), "seconds": sum(r["seconds"] for r in rs),
               "selection_f1_tokens": sum(r["selection_f1_tokens"] for r in rs) / len(rs)},
              open(os.path.join(a.out, "result.json"), "w"))


def json_objects(text):
    """The JSON objects printed one after another (`medtag evaluate run --format json`: NER, then indexing)."""
    decoder, objects, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        obj, i = decoder.raw_decode(text, i)
        objects.append(obj)
    return objects


def cmd_record(a):
    objects = json_objects(open(a.scores, encoding="utf-8").read())
    ner = next(o for o in objects if "labels" in o)
    indexing = next((o for o in objects if "labels" not in o), None)  # none for English (no codes)
    result = json.load(open(os.path.join(a.run, "result.json")))
    out = {"fold": a.fold, "ner": ner, "indexing": indexing,
           "best_epoch": result["epoch"], "train_seconds": result["seconds"],
           "selection_f1_tokens": result["selection_f1_tokens"]}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    tmp = a.out + ".tmp"
    json.dump(out, open(tmp, "w"), indent=1, sort_keys=True)
    os.replace(tmp, a.out)


def load(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "fold-*.json"))):
        r = json.load(open(path))
        rows[r["fold"]] = r
    return rows


def micro(section):
    m = section["micro"]
    return m["precision"], m["recall"], m["f1"]


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def cmd_summary(a):
    md = a.markdown
    for folder in a.results:
        rows = load(folder)
        name = os.path.basename(os.path.normpath(folder))
        print(f"\n{'**' if md else '== '}{name}{'**' if md else ''}: {len(rows)} of {FOLDS} folds\n")
        if not rows:
            continue
        labels = sorted({l for r in rows.values() for l in r["ner"]["labels"]})
        # Without concept indexing (English), the per-label F1 of each fold takes its columns.
        by_label = not any(r.get("indexing") for r in rows.values())
        extra = [f"{l} F1" for l in labels] if by_label else ["indexing P", "R", "F1"]
        head = ["fold", "NER P", "R", "F1"] + extra + ["best epoch", "training minutes"]
        if md:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
        else:
            print(" ".join(f"{h:>{max(7, len(h))}}" for h in head))
        cols = [[] for _ in range(3 + len(extra))]
        for k in sorted(rows):
            r = rows[k]
            values = list(micro(r["ner"])) + (
                [r["ner"]["labels"].get(l, {}).get("f1") for l in labels] if by_label else
                list(micro(r["indexing"])) if r.get("indexing") else [None] * 3)
            for col, v in zip(cols, values):
                if v is not None:
                    col.append(v)
            cells = [str(k)] + ["–" if v is None else f"{v:.4f}" for v in values] + [str(r["best_epoch"]), f"{r['train_seconds'] / 60:.1f}"]
            if md:
                print("| " + " | ".join(cells) + " |")
            else:
                print(" ".join(f"{c:>{max(7, len(h))}}" for c, h in zip(cells, head)))
        stats = ["%.4f ± %.4f" % mean_sd(col) if col else "–" for col in cols]
        if md:
            print("| **mean ± sd** | " + " | ".join(stats) + " | | |")
        else:
            print("mean " + "  ".join(stats))
        if md:
            print("\n| label | F1, mean ± sd over folds | gold mentions |\n|---|---|---|")
        for l in labels:
            present = [r["ner"]["labels"][l] for r in rows.values() if l in r["ner"]["labels"]]
            m, sd = mean_sd([x["f1"] for x in present])
            support = sum(x["tp"] + x["fn"] for x in present)
            if md:
                print(f"| {l} | {m:.4f} ± {sd:.4f} | {support} |")
            else:
                print(f"  {l:18} F1 {m:.4f}±{sd:.4f} (gold mentions {support})")
    if a.against:
        paired = compare(load(a.against), load(a.results[0]))
        if paired is None:
            print("paired comparison needs at least two common folds")
            return
        m, se, wins, n, verdict = paired
        print(f"\npaired NER F1 difference {os.path.basename(a.results[0])} − {os.path.basename(a.against)} over "
              f"{n} folds: {m:+.4f} (SE {se:.4f}), wins {wins}/{n}: {verdict}")


def compare(base, new):
    """The paired NER F1 difference new − base over their common folds: (mean, SE, wins, folds, verdict)
    by the rule for keeping a change; None under two common folds."""
    common = sorted(set(base) & set(new))
    if len(common) < 2:
        return None
    d = [micro(new[k]["ner"])[2] - micro(base[k]["ner"])[2] for k in common]
    m, sd = mean_sd(d)
    se = sd / math.sqrt(len(d))
    wins = sum(x > 0 for x in d)
    verdict = ("kept: wins on at least 4 of 5 folds" if wins >= 4 else
               "kept: mean gain over twice the standard error" if m > 2 * se else "not shown to help")
    return m, se, wins, len(common), verdict


def cmd_ablation(a):
    """One row a configuration: NER and indexing F1 (mean ± sd), the paired difference with its base
    (RESULTS@BASE, else --base) and the verdict, and training minutes a fold."""
    name = lambda folder: os.path.basename(os.path.normpath(folder))
    print("| configuration | folds | NER F1 | indexing F1 | against | difference (SE), wins | verdict | training minutes a fold |")
    print("|---|---|---|---|---|---|---|---|")
    for row in a.results:
        folder, _, against = row.partition("@")
        against = against or a.base
        rows = load(folder)
        if not rows:
            continue
        ner = mean_sd([micro(r["ner"])[2] for r in rows.values()])
        indexing = [micro(r["indexing"])[2] for r in rows.values() if r.get("indexing")]
        index_cell = "%.4f ± %.4f" % mean_sd(indexing) if indexing else "–"
        minutes = mean_sd([r["train_seconds"] / 60 for r in rows.values()])[0]
        paired = None if not against or name(against) == name(folder) else compare(load(against), rows)
        cells = ["–", "–", "–"] if paired is None else [
            name(against), f"{paired[0]:+.4f} ({paired[1]:.4f}), {paired[2]}/{paired[3]}", paired[4]]
        print(f"| {name(folder)} | {len(rows)} | {ner[0]:.4f} ± {ner[1]:.4f} | {index_cell} | " + " | ".join(cells)
              + f" | {minutes:.1f} |")


ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
sub = ap.add_subparsers(dest="cmd", required=True)
p = sub.add_parser("folds"); p.add_argument("--corpus", required=True); p.add_argument("--out", required=True)
p = sub.add_parser("split"); p.add_argument("--corpus", required=True); p.add_argument("--folds", required=True)
p.add_argument("--fold", type=int, required=True); p.add_argument("--out", required=True)
p = sub.add_parser("en-folds"); p.add_argument("--corpora", required=True); p.add_argument("--out", required=True)
p = sub.add_parser("en-split"); p.add_argument("--corpora", required=True); p.add_argument("--folds", required=True)
p.add_argument("--fold", type=int, required=True, help="the fold scored; -1: none (the shipped model)")
p.add_argument("--holdout", type=int, default=10, help="every Nth group of a corpus is its devel split (0: none)")
p.add_argument("--holdout-trains", action="store_true", help="train on the held-out groups too (devel only logs)")
p.add_argument("--out", required=True)
p = sub.add_parser("vectors"); p.add_argument("--model", required=True); p.add_argument("--out", required=True)
p = sub.add_parser("ensemble-result"); p.add_argument("--out", required=True); p.add_argument("members", nargs="+")
p = sub.add_parser("record"); p.add_argument("--scores", required=True); p.add_argument("--run", required=True)
p.add_argument("--fold", type=int, required=True); p.add_argument("--out", required=True)
p = sub.add_parser("summary"); p.add_argument("results", nargs="+"); p.add_argument("--against")
p.add_argument("--markdown", action="store_true", help="tables as in the model cards")
p = sub.add_parser("ablation"); p.add_argument("--base", help="the configuration a row without @BASE is compared with")
p.add_argument("results", nargs="+", help="RESULTS or RESULTS@BASE")
a = ap.parse_args()
{"folds": cmd_folds, "split": cmd_split, "en-folds": cmd_en_folds, "en-split": cmd_en_split, "vectors": cmd_vectors,
 "ensemble-result": cmd_ensemble_result, "record": cmd_record, "summary": cmd_summary,
 "ablation": cmd_ablation}[a.cmd](a)
