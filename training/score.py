"""Strict PharmaCoNER subtrack-1 measure: a predicted mention is right when its character span
and label equal a gold mention's. Compares predicted .ann files with the gold ones; prints micro
and per-label P/R/F1 and, with --manifest, records them under devScores.strict."""
import argparse, collections, glob, json, os


def read_ann(path):
    out = set()
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        if line.startswith("T"):
            info = line.split("\t")[1].split()
            out.add((int(info[1]), int(info[-1]), info[0]))
    return out


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


ap = argparse.ArgumentParser()
ap.add_argument("--gold", required=True)
ap.add_argument("--pred", required=True)
ap.add_argument("--manifest")
ap.add_argument("--how", default="")
args = ap.parse_args()

counts = collections.defaultdict(lambda: [0, 0, 0])
for g in sorted(glob.glob(os.path.join(args.gold, "*.ann"))):
    gold = read_ann(g)
    pred = read_ann(os.path.join(args.pred, os.path.basename(g)))
    for s in pred & gold:
        counts[s[2]][0] += 1
    for s in pred - gold:
        counts[s[2]][1] += 1
    for s in gold - pred:
        counts[s[2]][2] += 1
total = [sum(c[k] for c in counts.values()) for k in range(3)]
table = {}
print(f"{'label':18} {'P':>7} {'R':>7} {'F1':>7} {'gold':>6}")
for label in sorted(counts):
    tp, fp, fn = counts[label]
    p, r, f = prf(tp, fp, fn)
    table[label] = {"P": round(p, 4), "R": round(r, 4), "F1": round(f, 4), "gold": tp + fn}
    print(f"{label:18} {p:7.4f} {r:7.4f} {f:7.4f} {tp + fn:6d}")
p, r, f = prf(*total)
print(f"{'micro':18} {p:7.4f} {r:7.4f} {f:7.4f} {total[0] + total[2]:6d}")
if args.manifest:
    m = json.load(open(args.manifest, encoding="utf-8"))
    m.setdefault("devScores", {})["strict"] = {
        "P": round(p, 4), "R": round(r, 4), "F1": round(f, 4), "labels": table,
        "how": args.how or "medtag annotate on PharmaCoNER dev texts, exact character span and label vs gold .ann"}
    with open(args.manifest, "w", encoding="utf-8") as fh:
        json.dump(m, fh, ensure_ascii=False, indent=2)
