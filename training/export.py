"""Exports trained runs (an ensemble averaged at the emission level) to a model folder:
weights.safetensors (word vectors fp16, the rest fp32), vocabularies, feature tables,
manifest.json and reference.json (sentences -> emissions and Viterbi paths, for the parity test).
One exporter for every language; what differs (corpora, gazetteer, reference sentences) comes
from languages.py (--language es|en)."""
import argparse, hashlib, json, os, sys
import numpy as np
import torch
from safetensors.torch import save_file

import languages
from data import Encoder, batchify, spans, bio_spans, convert_tag
from features import load_affixes, MAX_CHARS, AFFIX_MIN_REST, CASING_CLASSES
from model import BiLSTMCRF, viterbi_np

ap = argparse.ArgumentParser()
ap.add_argument("--runs", nargs="+", required=True)
ap.add_argument("--emb", required=True)
ap.add_argument("--affixes", required=True)
ap.add_argument("--tokenizer-version", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--name", help="model name (default: the language's)")
ap.add_argument("--no-dev-score", action="store_true", help="skip the token-level dev scores")
ap.add_argument("--postprocess", nargs="*", default=None,
                help="document-level steps the runtime runs after the tagger (manifest 'postprocess'); "
                     "default: consistency for Spanish, abbreviations and consistency for English")
ap.add_argument("--corpus-note", help="what the members were trained on, for the manifest")
ap.add_argument("--charlm", help="the contextual character language models the runs were trained with")
languages.add_arguments(ap)
args = ap.parse_args()
torch.set_num_threads(1)
lang = languages.configure(args)
name = args.name or lang.name
postprocess = args.postprocess if args.postprocess is not None else (["consistency"] if lang.language == "es" else ["abbreviations", "consistency"])

ckpts = [torch.load(os.path.join(r, "model.pt"), weights_only=False) for r in args.runs]
cfg = ckpts[0]["config"]
def shape_of(c):
    return {k: v for k, v in c.items() if k not in ("tune_words", "lm_dim")}
for c in ckpts[1:]:
    assert shape_of(c["config"]) == shape_of(cfg) and c["chars"] == ckpts[0]["chars"], "runs differ in configuration"
tags, scheme, chars, labels = cfg["tags"], cfg["scheme"], ckpts[0]["chars"], ckpts[0]["labels"]
words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy")).astype(np.float16)
vectors32 = vectors.astype(np.float32)  # what the runtime sees
# Runs with and without language-model inputs may be mixed: a run without them gets zero weights
# on those inputs, which leaves its emissions as they were.
lm_dim = max(c["config"].get("lm_dim", 0) for c in ckpts)
assert len({c["config"].get("lm_dim", 0) for c in ckpts} - {0}) <= 1, "runs use different language models"
embedder = None
if lm_dim:
    assert args.charlm, "the runs use a character language model: pass --charlm"
    from charlm import Embedder
    embedder = Embedder(args.charlm)
    assert 2 * embedder.hidden == lm_dim, "--charlm is not the language model the runs were trained with"

models = []
for c in ckpts:
    m = BiLSTMCRF(vectors32.copy(), len(chars), tags, scheme, hidden=cfg["hidden"], dropout=cfg["dropout"],
                  char_dim=cfg["char_dim"], char_hidden=cfg["char_hidden"], case_dim=cfg["case_dim"],
                  lm_dim=lm_dim)
    state = dict(c["state"])
    if lm_dim and not c["config"].get("lm_dim"):
        for key in ("lstm.weight_ih_l0", "lstm.weight_ih_l0_reverse"):
            w = state[key]
            state[key] = torch.cat([w, torch.zeros(w.shape[0], lm_dim)], dim=1)
    if c["config"].get("tune_words"):  # own fine-tuned vectors, stored fp16 like the shared ones
        state["word.weight"] = state["word.weight"].half().float()
    else:
        state["word.weight"] = torch.as_tensor(vectors32)
    m.load_state_dict(state)
    m.eval()
    models.append(m)

# CRF: effective scores (invalid pairs at -10000), averaged over members.
eff = [[t.detach() for t in m.crf.effective()] for m in models]
crf = [torch.stack([e[k] for e in eff]).mean(0) for k in range(3)]
np_crf = [t.numpy() for t in crf]

tensors = {"word.weight": torch.as_tensor(vectors)}
keep = ("char.weight", "char_lstm.", "case.weight", "lstm.", "out.")
for k, (m, c) in enumerate(zip(models, ckpts)):
    for key, t in m.state_dict().items():
        if key.startswith(keep):
            tensors[f"m{k}.{key}"] = t.detach().float().contiguous()
    if c["config"].get("tune_words"):
        tensors[f"m{k}.word.weight"] = m.word.weight.detach().half().contiguous()
tensors["crf.start"], tensors["crf.transitions"], tensors["crf.end"] = (t.contiguous() for t in crf)
if embedder:  # the language models' embeddings and LSTMs (not their output layers)
    for direction, lm in (("forward", embedder.fwd), ("backward", embedder.bwd)):
        for key, t in lm.state_dict().items():
            if key.startswith(("emb.", "lstm.")):
                tensors[f"charlm.{direction}.{key}"] = t.detach().float().contiguous()

os.makedirs(args.out, exist_ok=True)
save_file(tensors, os.path.join(args.out, "weights.safetensors"),
          metadata={"format": "pt", "members": str(len(models)), "tagScheme": scheme})
os.chmod(os.path.join(args.out, "weights.safetensors"), 0o644)
with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(words) + "\n")
with open(os.path.join(args.out, "chars.json"), "w", encoding="utf-8") as f:
    json.dump(chars, f, ensure_ascii=False)
if embedder:
    with open(os.path.join(args.out, "charlm-chars.json"), "w", encoding="utf-8") as f:
        json.dump(embedder.chars, f, ensure_ascii=False)
elif os.path.exists(os.path.join(args.out, "charlm-chars.json")):
    os.remove(os.path.join(args.out, "charlm-chars.json"))
with open(os.path.join(args.out, "gazetteer.txt"), "w", encoding="utf-8") as f:
    f.write("\n".join(lang.gazetteer) + "\n")
affixes = load_affixes(args.affixes)
with open(os.path.join(args.out, "affixes.tsv"), "w", encoding="utf-8") as f:
    for kind, form in affixes:
        f.write(f"{kind}\t{form}\n")

enc = Encoder(words, chars, set(lang.gazetteer), affixes, tags, scheme)
decode = bio_spans if scheme == "bio" else spans


def emissions(token_lists, members):
    with torch.no_grad():
        lms = embedder.embed(token_lists, dtype=np.float32) if embedder else [None] * len(token_lists)
        b = batchify([(enc.encode([(t, 0, 0, "O") for t in toks])[0], [0] * len(toks), None, lm)
                      for toks, lm in zip(token_lists, lms)])
        return torch.stack([m.emissions(b) for m in members]).mean(0)


def convert(tag):
    return convert_tag(tag, scheme)


def f1(sentences, members, start, trans, end):
    """Exact token span and label F1 of the ensemble `members` on (tokens, gold tags) sentences."""
    tp = fp = fn = 0
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i][0]))
    for k in range(0, len(order), 64):
        idx = order[k:k + 64]
        em = emissions([sentences[i][0] for i in idx], members)
        for j, i in enumerate(idx):
            toks, gold = sentences[i]
            path = viterbi_np(em[j, :len(toks)].numpy(), start, trans, end)
            p = decode([tags[t] for t in path]); g = decode([convert(t) for t in gold])
            tp += len(p & g); fp += len(p - g); fn += len(g - p)
    pr, rc = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return round(2 * pr * rc / max(pr + rc, 1e-9), 4)


# Dev scores at the token level (the character-level score comes from the Swift pipeline).
scored = None if args.no_dev_score else lang.scored_sentences()
if scored is not None:
    member_f1 = [f1(scored, [m], *[t.numpy() for t in e]) for m, e in zip(models, eff)]
    token_scores = {"members": member_f1, "ensemble": f1(scored, models, *np_crf)}
    print(f"dev token-span F1: {token_scores}", file=sys.stderr)
else:
    token_scores = {"members": [c.get("dev_table", c.get("dev_f1_tokens")) for c in ckpts]}

# Reference for the Swift parity test: a few dev sentences, emissions and paths, and the features
# of many tokens.
picks = lang.reference_sentences()
ref = {"sentences": picks, "emissions": [], "paths": []}
for toks in picks:
    em = emissions([toks], models)[0].numpy()
    ref["emissions"].append([float(x) for x in em.reshape(-1)])
    ref["paths"].append(viterbi_np(em, *np_crf))
ref["features"] = []
for tok in lang.feature_tokens(picks):
    w, cids, case, flags = enc.token(tok)
    ref["features"].append([tok, w, case, [int(x) for x in flags], cids])
with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
    json.dump(ref, f, ensure_ascii=False)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

files = {role: {"path": p, "sha256": sha(os.path.join(args.out, p))} for role, p in [
    ("weights", "weights.safetensors"), ("words", "words.txt"), ("chars", "chars.json"),
    ("gazetteer", "gazetteer.txt"), ("affixes", "affixes.tsv"), ("reference", "reference.json")]
    + ([("charlm_chars", "charlm-chars.json")] if embedder else [])}
manifest_path = os.path.join(args.out, "manifest.json")
old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
manifest = {
    "name": name, "kind": "bilstm-crf", "language": lang.language, "labels": labels, "tagScheme": scheme,
    "tokenizerVersion": args.tokenizer_version, "tags": tags,
    "dimensions": {"words": len(words), "wordDim": int(vectors.shape[1]), "chars": len(chars),
                   "charDim": cfg["char_dim"], "charHidden": cfg["char_hidden"],
                   "casingDim": cfg["case_dim"], "hidden": cfg["hidden"], "members": len(models),
                   **({"charLMHidden": embedder.hidden, "charLMEmbedding": embedder.fwd.config["emb"]}
                      if embedder else {})},
    "features": {"maxChars": MAX_CHARS, "casingClasses": CASING_CLASSES, "affixMinRest": AFFIX_MIN_REST,
                 "wordKey": "lowercase, ASCII digits folded to 0; unknown words -> index 0"},
    "files": files,
    # Without a dev score (a model trained on dev too), no dev figure at all, not even an old one.
    **({} if args.no_dev_score else {"devScores": {
        "tokenSpanF1": {**token_scores, "how": lang.score_how},
        **{k: v for k, v in old.get("devScores", {}).items() if k != "tokenSpanF1"},
    }}),
    "training": {"seeds": [c["seed"] for c in ckpts], "epochs": [c["epoch"] for c in ckpts],
                 "corpus": args.corpus_note or lang.corpus_note},
}
if postprocess:  # after "files", before the scores
    manifest = {k: v for item in manifest.items()
                for k, v in ([item, ("postprocess", postprocess)] if item[0] == "files" else [item])}
with open(manifest_path, "w", encoding="utf-8") as f:
    json.dump(manifest, f, ensure_ascii=False, indent=2)
size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
print(f"wrote {args.out}: {size / 1e6:.1f} MB", file=sys.stderr)
