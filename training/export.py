"""Exports trained runs (an ensemble averaged at the emission level) to a model directory:
weights.safetensors (word vectors fp16, the rest fp32), vocabularies, feature tables,
manifest.json and reference.json (sentences -> emissions and Viterbi paths, for the parity test)."""
import argparse, hashlib, json, os, shutil, sys
import numpy as np
import torch
from safetensors.torch import save_file

from conll import read_conll, sentences
from data import Encoder, batchify, spans, bio_spans
from features import load_gazetteer, load_affixes, MAX_CHARS, AFFIX_MIN_REST, CASING_CLASSES
from model import BiLSTMCRF, viterbi_np

ap = argparse.ArgumentParser()
ap.add_argument("--runs", nargs="+", required=True)
ap.add_argument("--emb", required=True)
ap.add_argument("--dev", required=True)
ap.add_argument("--gazetteer", required=True)
ap.add_argument("--affixes", required=True)
ap.add_argument("--tokenizer-version", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--name", default="es-pharmaconer-bilstm-crf")
ap.add_argument("--no-dev-score", action="store_true", help="skip the token-level dev scores")
ap.add_argument("--postprocess", nargs="*", default=["consistency"],
                help="document-level steps the runtime runs after the tagger (manifest 'postprocess')")
ap.add_argument("--corpus-note", default="PharmaCoNER train (500 documents)",
                help="what the members were trained on, for the manifest")
args = ap.parse_args()
torch.set_num_threads(1)

ckpts = [torch.load(os.path.join(r, "model.pt"), weights_only=False) for r in args.runs]
cfg = ckpts[0]["config"]
def shape_of(c):
    return {k: v for k, v in c.items() if k != "tune_words"}
for c in ckpts[1:]:
    assert shape_of(c["config"]) == shape_of(cfg) and c["chars"] == ckpts[0]["chars"], "runs differ in configuration"
tags, scheme, chars, labels = cfg["tags"], cfg["scheme"], ckpts[0]["chars"], ckpts[0]["labels"]
words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy")).astype(np.float16)
vectors32 = vectors.astype(np.float32)  # what the runtime sees

models = []
for c in ckpts:
    m = BiLSTMCRF(vectors32.copy(), len(chars), tags, scheme, hidden=cfg["hidden"], dropout=cfg["dropout"],
                  char_dim=cfg["char_dim"], char_hidden=cfg["char_hidden"], case_dim=cfg["case_dim"])
    state = dict(c["state"])
    if c["config"].get("tune_words"):  # own fine-tuned vectors, stored fp16 like the shared ones
        state["word.weight"] = state["word.weight"].half().float()
    else:
        state["word.weight"] = torch.as_tensor(vectors32)
    m.load_state_dict(state)
    m.eval()
    models.append(m)

# CRF: effective scores (invalid pairs at -10000), averaged over members.
eff = [[t.detach() for t in m.crf.effective()] for m in models]
crf_start = torch.stack([e[0] for e in eff]).mean(0)
crf_trans = torch.stack([e[1] for e in eff]).mean(0)
crf_end = torch.stack([e[2] for e in eff]).mean(0)

tensors = {"word.weight": torch.as_tensor(vectors)}
keep = ("char.weight", "char_lstm.", "case.weight", "lstm.", "out.")
for k, (m, c) in enumerate(zip(models, ckpts)):
    for name, t in m.state_dict().items():
        if name.startswith(keep):
            tensors[f"m{k}.{name}"] = t.detach().float().contiguous()
    if c["config"].get("tune_words"):
        tensors[f"m{k}.word.weight"] = m.word.weight.detach().half().contiguous()
tensors["crf.start"] = crf_start.contiguous()
tensors["crf.transitions"] = crf_trans.contiguous()
tensors["crf.end"] = crf_end.contiguous()

os.makedirs(args.out, exist_ok=True)
save_file(tensors, os.path.join(args.out, "weights.safetensors"),
          metadata={"format": "pt", "members": str(len(models)), "tagScheme": scheme})
os.chmod(os.path.join(args.out, "weights.safetensors"), 0o644)
with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(words) + "\n")
with open(os.path.join(args.out, "chars.json"), "w", encoding="utf-8") as f:
    json.dump(chars, f, ensure_ascii=False)
with open(os.path.join(args.out, "gazetteer.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(sorted(load_gazetteer(args.gazetteer))) + "\n")
with open(os.path.join(args.out, "affixes.tsv"), "w", encoding="utf-8") as f:
    for kind, form in load_affixes(args.affixes):
        f.write(f"{kind}\t{form}\n")

# Dev scores at the token level (the character-level score comes from the Swift pipeline).
dev_s = sentences(read_conll(args.dev))
enc = Encoder(words, chars, load_gazetteer(args.gazetteer), load_affixes(args.affixes), tags, scheme)
items = [enc.encode(s) for s in dev_s]
decode = bio_spans if scheme == "bio" else spans


def emissions(batch_items, members):
    with torch.no_grad():
        b = batchify(batch_items)
        return torch.stack([m.emissions(b) for m in members]).mean(0)


def f1(members, start, trans, end):
    tp = fp = fn = 0
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    for k in range(0, len(order), 64):
        idx = order[k:k + 64]
        em = emissions([items[i] for i in idx], members)
        for j, i in enumerate(idx):
            n = len(items[i][0])
            path = viterbi_np(em[j, :n].numpy(), start, trans, end)
            p = decode([tags[t] for t in path]); g = decode([tags[t] for t in items[i][1]])
            tp += len(p & g); fp += len(p - g); fn += len(g - p)
    pr, rc = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return round(2 * pr * rc / max(pr + rc, 1e-9), 4)

np_crf = [t.numpy() for t in (crf_start, crf_trans, crf_end)]
if args.no_dev_score:
    member_f1, ensemble_f1 = [], None
else:
    member_f1 = [f1([m], *[t.numpy() for t in e]) for m, e in zip(models, eff)]
    ensemble_f1 = f1(models, *np_crf)
print(f"dev token-span F1: members {member_f1}, ensemble {ensemble_f1}", file=sys.stderr)

# Reference for the Swift parity test: a few dev sentences, emissions and paths.
picks = []
for s in dev_s:
    toks = [t[0] for t in s]
    if any(t[3] != "O" for t in s) and 5 <= len(toks) <= 40 and len(picks) < 6:
        picks.append(toks)
picks.append(["Se", "administró", "dexametasona-fosfato" * 3, "y", "ÑÓÇ", "0,5", "mg", "."])  # clipped, unknown chars
picks.append(["Omeprazol"])
ref = {"sentences": picks, "emissions": [], "paths": []}
for toks in picks:
    it = enc.encode([(t, 0, 0, "O") for t in toks])
    em = emissions([it], models)[0].numpy()
    ref["emissions"].append([float(x) for x in em.reshape(-1)])
    ref["paths"].append(viterbi_np(em, *np_crf))
# Feature parity: the distinct dev tokens with their word id, casing, flags and char ids.
distinct = sorted({t[0] for s in dev_s for t in s})
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
    "name": args.name, "kind": "bilstm-crf", "language": "es", "labels": labels, "tagScheme": scheme,
    "tokenizerVersion": args.tokenizer_version, "tags": tags,
    "dimensions": {"words": len(words), "wordDim": int(vectors.shape[1]), "chars": len(chars),
                   "charDim": cfg["char_dim"], "charHidden": cfg["char_hidden"],
                   "casingDim": cfg["case_dim"], "hidden": cfg["hidden"], "members": len(models)},
    "features": {"maxChars": MAX_CHARS, "casingClasses": CASING_CLASSES, "affixMinRest": AFFIX_MIN_REST,
                 "wordKey": "lowercase, ASCII digits folded to 0; unknown words -> index 0"},
    "files": files,
    "postprocess": args.postprocess,
    "devScores": {
        "tokenSpanF1": {"members": member_f1, "ensemble": ensemble_f1,
                        "how": "PyTorch, exact token span and label on medtag-tokenized dev sentences"},
        **{k: v for k, v in old.get("devScores", {}).items() if k != "tokenSpanF1"},
    },
    "training": {"seeds": [c["seed"] for c in ckpts], "epochs": [c["epoch"] for c in ckpts],
                 "corpus": args.corpus_note},
}
with open(manifest_path, "w", encoding="utf-8") as f:
    json.dump(manifest, f, ensure_ascii=False, indent=2)
size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
print(f"wrote {args.out}: {size / 1e6:.1f} MB", file=sys.stderr)
