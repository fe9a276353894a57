"""PyTorch side of `make bench`: the shipped model (read back from its safetensors) run by
PyTorch on the same dev sentences, tokens in -> Viterbi paths out, batch 1 and 64, 1 and 2
threads. Merges the Swift engine's figures and writes the side-by-side table and bench.json."""
import argparse, json, os, sys, time
import numpy as np
import torch
from safetensors.numpy import load_file

from conll import read_conll, sentences
from data import Encoder, batchify
from features import load_gazetteer, load_affixes
from model import BiLSTMCRF, load_exported, viterbi_np

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--conll", required=True)
ap.add_argument("--swift", required=True, help="JSON printed by `medtag bench`")
ap.add_argument("--out", required=True)
ap.add_argument("--seconds", type=float, default=25.0,
                help="time budget of one configuration: it stops after the batch that crosses it")
ap.add_argument("--batch1-sentences", type=int, default=1500,
                help="batch-1 runs use the first N sentences (tokens/s is what counts); 0 = all")
args = ap.parse_args()

man = json.load(open(os.path.join(args.model, "manifest.json"), encoding="utf-8"))
d = man["dimensions"]
tensors = load_file(os.path.join(args.model, man["files"]["weights"]["path"]))
words = open(os.path.join(args.model, "words.txt"), encoding="utf-8").read().split("\n")[:d["words"]]
chars = json.load(open(os.path.join(args.model, "chars.json"), encoding="utf-8"))
gaz = {l.strip() for l in open(os.path.join(args.model, "gazetteer.txt"), encoding="utf-8") if l.strip()}
affixes = [tuple(l.rstrip("\n").split("\t")) for l in open(os.path.join(args.model, "affixes.tsv"), encoding="utf-8") if l.strip()]
tags = man["tags"]
vectors = tensors["word.weight"].astype(np.float32)
embedder = None
if d.get("charLMHidden"):  # contextual character language models, run inside the timed loop
    from charlm import Embedder
    lm_chars = json.load(open(os.path.join(args.model, man["files"]["charlm_chars"]["path"]), encoding="utf-8"))
    embedder = Embedder.from_export(lm_chars, tensors, d["charLMEmbedding"], d["charLMHidden"])
members = []
for k in range(d["members"]):
    m = BiLSTMCRF(vectors.copy(), d["chars"], tags, man["tagScheme"], char_dim=d["charDim"],
                  char_hidden=d["charHidden"], case_dim=d["casingDim"], hidden=d["hidden"],
                  lm_dim=2 * d.get("charLMHidden", 0))
    members.append(load_exported(m, tensors, f"m{k}."))
crf = [tensors["crf.start"], tensors["crf.transitions"], tensors["crf.end"]]

sents = [[t[0] for t in s] for s in sentences(read_conll(args.conll))]
n_tokens = sum(len(s) for s in sents)


def run(batch, budget=None):
    budget = budget or args.seconds
    enc = Encoder(words, chars, gaz, affixes, tags, man["tagScheme"])
    if batch > 1:
        # document order, sorted by length within windows of 10 batches
        window = batch * 10
        order = [i for w in range(0, len(sents), window)
                 for i in sorted(range(w, min(w + window, len(sents))), key=lambda i: -len(sents[i]))]
    else:
        order = list(range(len(sents)))[:args.batch1_sentences or None]
    ntok = 0
    start = time.perf_counter()
    paths = [None] * len(sents)
    with torch.inference_mode():
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            lms = embedder.embed([sents[i] for i in idx], batch=len(idx), dtype=np.float32) if embedder else [None] * len(idx)
            items = [(enc.encode([(t, 0, 0, "O") for t in sents[i]])[0], [0] * len(sents[i]), None, lm)
                     for i, lm in zip(idx, lms)]
            b = batchify(items)
            em = torch.stack([m.emissions(b) for m in members]).mean(0).numpy()
            for j, i in enumerate(idx):
                paths[i] = viterbi_np(em[j, :len(sents[i])], *crf)
                ntok += len(sents[i])
            if time.perf_counter() - start > budget:
                break
    return ntok


rows = []
for threads in (1, 2):
    torch.set_num_threads(threads)
    for batch in (1, 64):
        run(64, budget=3) if not rows else None  # warm-up
        t = time.perf_counter()
        ntok = run(batch)
        s = time.perf_counter() - t
        rows.append({"engine": "pytorch", "workers": threads, "batch": batch, "tokensPerSecond": ntok / s,
                     "documentsPerSecond": None, "seconds": s, "tokens": ntok})
        print(f"pytorch threads {threads} batch {batch}: {ntok / s:,.0f} tokens/s over {ntok} tokens", file=sys.stderr)

swift = json.load(open(args.swift))
table = swift["rows"] + rows
best_e = max(r["tokensPerSecond"] for r in swift["rows"])
best_p = max(r["tokensPerSecond"] for r in rows)
print(f"\nmodel {man['name']} ({d['members']} member(s), hidden {d['hidden']}), dev: "
      f"{swift['documents']} documents, {n_tokens} tokens, {len(sents)} sentences")
print(f"{'engine':8} {'threads':>7} {'batch':>5} {'tokens/s':>10} {'docs/s':>8} {'seconds':>8}")
for r in table:
    docs = f"{r['documentsPerSecond']:8.1f}" if r["documentsPerSecond"] else f"{'':>8}"
    print(f"{r['engine']:8} {r['workers']:7d} {r['batch']:5d} {r['tokensPerSecond']:10,.0f} {docs} {r['seconds']:8.2f}")
print(f"best engine {best_e:,.0f} tokens/s vs best PyTorch {best_p:,.0f}: ratio {best_e / best_p:.2f}x")
a = swift.get("arithmetic")
if a:
    best_row = max(swift["rows"], key=lambda r: r["tokensPerSecond"])
    print(f"kernels {swift['blas']} (chosen by {swift['blasChoice']}) on {a['cpuModel']}, {a['cores']} cores at "
          f"{a['clockGHz']:.2f} GHz, fp32 peak {a['peakGflops']:.0f} GFLOP/s ({a['fmaLanes']} lanes x 2 x {a['fmaUnits']} FMA units a core)")
    print(f"work {a['flopsPerToken'] / 1e6:.2f} MFLOP a token: the engine at {best_e * a['flopsPerToken'] / 1e9:.1f} GFLOP/s = "
          f"{100 * best_row['fractionOfPeak']:.0f}% of the peak of the {best_row['workers']} core(s) it used; "
          f"word Bi-LSTM products alone (batch 32, one core) {a['wordProductGflops']:.1f} GFLOP/s = "
          f"{100 * a['wordProductFractionOfCorePeak']:.0f}% of a core's peak")
print(f"start-up to first prediction {swift['startupMilliseconds']:.1f} ms (model load {swift['loadMilliseconds']:.1f} ms), "
      f"peak RSS {swift['peakRSSMegabytes']:.1f} MB")
json.dump({"engine_tokens_per_s": round(best_e), "pytorch_tokens_per_s": round(best_p),
           "ratio": round(best_e / best_p, 3), "blas": swift.get("blas"), "arithmetic": swift.get("arithmetic"), "startup_ms": round(swift["startupMilliseconds"], 2),
           "load_ms": round(swift["loadMilliseconds"], 2), "peak_rss_mb": round(swift["peakRSSMegabytes"], 1),
           "documents": swift["documents"], "tokens": n_tokens, "configs": table},
          open(args.out, "w"), indent=2)
print(f"wrote {args.out}")
