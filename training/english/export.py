"""Exports an English run to a model folder in the runtime's format (the same files as the Spanish
Bi-LSTM-CRF: weights.safetensors with fp16 word vectors, words.txt, chars.json, gazetteer.txt
(empty: no English name list), affixes.tsv, manifest.json, reference.json for the parity test)."""
import argparse, hashlib, json, os, sys
import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from data import Encoder, batchify  # noqa: E402
from features import load_affixes, MAX_CHARS, CASING_CLASSES, AFFIX_MIN_REST  # noqa: E402
from model import BiLSTMCRF, viterbi_np  # noqa: E402
from corpora import load, CORPORA  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--runs", nargs="+", required=True)
ap.add_argument("--emb", required=True)
ap.add_argument("--corpora", required=True)
ap.add_argument("--affixes", required=True)
ap.add_argument("--tokenizer-version", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--name", default="en-biomed-bilstm-crf")
args = ap.parse_args()
torch.set_num_threads(1)

ckpts = [torch.load(os.path.join(r, "model.pt"), weights_only=False) for r in args.runs]
cfg = ckpts[0]["config"]
for c in ckpts[1:]:
    assert c["config"] == cfg and c["chars"] == ckpts[0]["chars"], "runs differ in configuration"
tags, scheme, chars, labels = cfg["tags"], cfg["scheme"], ckpts[0]["chars"], ckpts[0]["labels"]
words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy")).astype(np.float16)
vectors32 = vectors.astype(np.float32)  # what the runtime sees

models = []
for c in ckpts:
    m = BiLSTMCRF(vectors32, len(chars), tags, scheme, hidden=cfg["hidden"], dropout=cfg["dropout"],
                  char_dim=cfg["char_dim"], char_hidden=cfg["char_hidden"], case_dim=cfg["case_dim"])
    state = dict(c["state"])
    state["word.weight"] = torch.as_tensor(vectors32)
    m.load_state_dict(state)
    m.eval()
    models.append(m)

eff = [[t.detach() for t in m.crf.effective()] for m in models]
crf = [torch.stack([e[k] for e in eff]).mean(0) for k in range(3)]
tensors = {"word.weight": torch.as_tensor(vectors)}
keep = ("char.weight", "char_lstm.", "case.weight", "lstm.", "out.")
for k, m in enumerate(models):
    for name, t in m.state_dict().items():
        if name.startswith(keep):
            tensors[f"m{k}.{name}"] = t.detach().float().contiguous()
tensors["crf.start"], tensors["crf.transitions"], tensors["crf.end"] = (t.contiguous() for t in crf)

os.makedirs(args.out, exist_ok=True)
save_file(tensors, os.path.join(args.out, "weights.safetensors"),
          metadata={"format": "pt", "members": str(len(models)), "tagScheme": scheme})
os.chmod(os.path.join(args.out, "weights.safetensors"), 0o644)
with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(words) + "\n")
with open(os.path.join(args.out, "chars.json"), "w", encoding="utf-8") as f:
    json.dump(chars, f, ensure_ascii=False)
with open(os.path.join(args.out, "gazetteer.txt"), "w", encoding="utf-8") as f:
    f.write("\n")
affixes = load_affixes(args.affixes)
with open(os.path.join(args.out, "affixes.tsv"), "w", encoding="utf-8") as f:
    for kind, form in affixes:
        f.write(f"{kind}\t{form}\n")

enc = Encoder(words, chars, set(), affixes, tags, scheme)
np_crf = [t.numpy() for t in crf]


def emissions(toks_list):
    with torch.no_grad():
        b = batchify([(t, [0] * len(t)) for t in toks_list])
        return torch.stack([m.emissions(b) for m in models]).mean(0)


# Reference for the Swift parity test: a few devel sentences of each corpus, emissions and paths.
dev = load(args.corpora, "devel")
picks = []
for name in CORPORA:
    n = 0
    for s in dev[name][1]:
        toks = [t for t, _ in s]
        if any(g != "O" for _, g in s) and 5 <= len(toks) <= 40 and n < 4:
            picks.append(toks); n += 1
picks.append(["Aspirin", "and", "interleukin-6", "(", "IL-6", ")", "reduced", "hypertension", "."])
picks.append(["Tamoxifen"])
ref = {"sentences": picks, "emissions": [], "paths": []}
for toks in picks:
    it = enc.encode([(t, 0, 0, "O") for t in toks])[0]
    em = emissions([it])[0].numpy()
    ref["emissions"].append([float(x) for x in em.reshape(-1)])
    ref["paths"].append(viterbi_np(em, *np_crf))
distinct = sorted({t for s in picks for t in s})
ref["features"] = []
for tok in distinct:
    w, cids, case, flags = enc.token(tok)
    ref["features"].append([tok, w, case, [int(x) for x in flags], cids])
with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
    json.dump(ref, f, ensure_ascii=False)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

files = {role: {"path": p, "sha256": sha(os.path.join(args.out, p))} for role, p in [
    ("weights", "weights.safetensors"), ("words", "words.txt"), ("chars", "chars.json"),
    ("gazetteer", "gazetteer.txt"), ("affixes", "affixes.tsv"), ("reference", "reference.json")]}
manifest_path = os.path.join(args.out, "manifest.json")
old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
manifest = {
    "name": args.name, "kind": "bilstm-crf", "language": "en", "labels": labels, "tagScheme": scheme,
    "tokenizerVersion": args.tokenizer_version, "tags": tags,
    "dimensions": {"words": len(words), "wordDim": int(vectors.shape[1]), "chars": len(chars),
                   "charDim": cfg["char_dim"], "charHidden": cfg["char_hidden"],
                   "casingDim": cfg["case_dim"], "hidden": cfg["hidden"], "members": len(models)},
    "features": {"maxChars": MAX_CHARS, "casingClasses": CASING_CLASSES, "affixMinRest": AFFIX_MIN_REST,
                 "wordKey": "lowercase, ASCII digits folded to 0; unknown words -> index 0"},
    "files": files,
    "devScores": {
        "tokenSpanF1": {"members": [c.get("dev_table") for c in ckpts],
                        "how": "PyTorch, exact token span and label on the devel splits, each corpus scored on the labels it annotates"},
        **{k: v for k, v in old.get("devScores", {}).items() if k != "tokenSpanF1"},
    },
    "training": {"seeds": [c["seed"] for c in ckpts], "epochs": [c["epoch"] for c in ckpts],
                 "corpus": "BC5CDR train (Chemical, Disease) + BC2GM train (GENE), the corpora's own tokens; "
                           "partial-annotation CRF loss; early stopping on the devel splits"},
}
with open(manifest_path, "w", encoding="utf-8") as f:
    json.dump(manifest, f, ensure_ascii=False, indent=2)
size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
print(f"wrote {args.out}: {size / 1e6:.1f} MB", file=sys.stderr)
