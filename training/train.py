"""Trains one Bi-LSTM-CRF (one seed) with early stopping; writes run_dir/model.pt. One trainer for
every language (--language es|en); what differs is the data and the loss:

- es: PharmaCoNER CoNLL from medtag convert (BMEWO-V by default), the full CRF loss, early stopping
  on held-out training documents (--holdout) or dev, optionally a second output trained on an
  auxiliary corpus with another label set (--aux, not exported).
- en: BC5CDR + BC2GM (BIOES) with a partial (marginal) CRF loss: each corpus annotates only some
  labels, so a token it tags O may be O or part of a mention of a label it does not annotate. The
  loss is -log of the total probability of every tag path consistent with what the corpus says (a
  gold entity tag fixes the token's tag; an O allows O or any tag of the labels the corpus leaves
  out). Early stopping on the mean F1 of the scored corpora's devel splits (english/corpora.py);
  --train-corpora adds others (NCBI-disease) to the training sentences, their devel only logged.

Interrupted runs resume from their last finished epoch (run_dir/last.pt)."""
import argparse, json, os, random, sys, time
import numpy as np
import torch

from conll import read_conll, sentences
from data import Encoder, batchify, spans, bio_spans
from features import load_gazetteer, load_affixes
from model import BiLSTMCRF, tag_set, viterbi_np, NEG

DEFAULTS = {  # per language: scheme, epochs, patience, batch, lr
    "es": dict(scheme="bmewov", epochs=40, patience=7, batch=16, lr=0.002),
    "en": dict(scheme="bioes", epochs=30, patience=5, batch=32, lr=0.003),
}

ap = argparse.ArgumentParser()
ap.add_argument("--language", choices=sorted(DEFAULTS), default="es")
ap.add_argument("--train", help="es: train CoNLL")
ap.add_argument("--dev", help="es: dev CoNLL")
ap.add_argument("--gazetteer", help="es: gazetteer, one name a line")
ap.add_argument("--corpora", help="en: folder with BC5CDR-IOB/ and BC2GM-IOB/")
ap.add_argument("--train-corpora", nargs="+", help="en: corpora trained on (default: the scored ones, "
                "BC5CDR and BC2GM); NCBI-disease adds Disease sentences")
ap.add_argument("--emb", required=True, help="folder with words.txt and vectors.npy")
ap.add_argument("--affixes", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--scheme")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--epochs", type=int)
ap.add_argument("--patience", type=int)
ap.add_argument("--batch", type=int)
ap.add_argument("--lr", type=float)
ap.add_argument("--hidden", type=int, default=100)
ap.add_argument("--dropout", type=float, default=0.5)
ap.add_argument("--word-dropout", type=float, default=0.05)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--tune-words", action="store_true", help="fine-tune the word vectors (SparseAdam)")
ap.add_argument("--init", help="continue from this model.pt (same vocabularies and sizes)")
ap.add_argument("--holdout", type=int, default=0,
                help="es: every Nth training document is held out for early stopping (0: stop on --dev)")
ap.add_argument("--aux", help="es: auxiliary corpus (token<TAB>BIO tag CoNLL): a second output trained on it")
ap.add_argument("--aux-fraction", type=float, default=0.25, help="share of the auxiliary sentences used each epoch")
ap.add_argument("--aux-weight", type=float, default=0.5, help="weight of the auxiliary loss")
ap.add_argument("--silver", help="es: a teacher's labels of unlabelled text (medtag CoNLL, the --scheme's tags): "
                "sentences sampled each epoch and trained like gold (distillation)")
ap.add_argument("--silver-tokens", type=int, default=0,
                help="tokens of --silver sentences sampled each epoch (0: as many as the gold training part has)")
ap.add_argument("--silver-weight", type=float, default=1.0, help="weight of the --silver loss")
ap.add_argument("--keep-last", action="store_true",
                help="train exactly --epochs epochs and keep the last (a final model on every labelled document, "
                     "its epoch count fixed by cross-validation); --dev is then only logged")
ap.add_argument("--snapshots", action="store_true",
                help="with --keep-last, also keep each epoch's model as model-eN.pt (the same as a run of N epochs)")
ap.add_argument("--ema", type=float, default=0.0,
                help="decay per step of an exponential moving average of the weights (0: none); the average "
                     "is what is scored, selected and kept")
ap.add_argument("--max-minutes", type=float, default=0, help="stop when another epoch would pass this")
ap.add_argument("--limit", type=int, default=0, help="en: sentences per corpus (smoke tests)")
ap.add_argument("--charlm", help="folder with contextual character language models (charlm.py): their "
                "states at each token are inputs of the word Bi-LSTM")
args = ap.parse_args()
for key, value in DEFAULTS[args.language].items():
    if getattr(args, key) is None:
        setattr(args, key, value)

torch.set_num_threads(args.threads)
random.seed(args.seed); np.random.seed(args.seed); torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "log.txt"), "a")
def say(*a):
    msg = " ".join(str(x) for x in a)
    print(msg, file=sys.stderr, flush=True); log.write(msg + "\n"); log.flush()

words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy"))
affixes = load_affixes(args.affixes)
decode = bio_spans if args.scheme == "bio" else spans
embedder = None
if args.charlm:
    from charlm import Embedder
    embedder = Embedder(args.charlm)


def lm_states(sents):
    """Contextual character-LM states of each sentence ([(token, ...)]), or None each without --charlm.
    Kept in --charlm's cache/ folder by content, so parallel runs compute each corpus once."""
    if embedder is None:
        return [None] * len(sents)
    import hashlib
    token_lists = [[tok[0] for tok in s] for s in sents]
    key = hashlib.sha1(json.dumps(token_lists, ensure_ascii=False).encode()).hexdigest()[:16]
    stamp = max(os.path.getmtime(os.path.join(args.charlm, d, "model.pt")) for d in ("forward", "backward"))
    path = os.path.join(args.charlm, "cache", f"{key}-{int(stamp)}.npy")
    lengths = [len(s) for s in token_lists]
    if os.path.exists(path):
        flat = np.load(path, mmap_mode="r")
    else:
        t = time.time()
        flat = np.concatenate(embedder.embed(token_lists))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npy"
        np.save(tmp, flat)
        os.replace(tmp, path)
        say(f"language-model states of {len(sents)} sentences ({time.time() - t:.0f}s)")
    out, k = [], 0
    for n in lengths:
        out.append(flat[k:k + n]); k += n
    return out


def token_f1(counts):
    tp, fp, fn = counts
    p = tp / max(tp + fp, 1); r = tp / max(tp + fn, 1)
    return 2 * p * r / max(p + r, 1e-9), p, r


# --- Data: items are (tokens, gold tag ids, allowed-tags mask or None, LM states or None) ----------
if args.language == "es":
    train_docs = read_conll(args.train)
    if args.holdout:
        # Early stopping on held-out training documents: dev is only scored, never used to choose.
        val_s = sentences([d for i, d in enumerate(train_docs) if i % args.holdout == args.holdout - 1])
        train_s = sentences([d for i, d in enumerate(train_docs) if i % args.holdout != args.holdout - 1])
    else:
        train_s = sentences(train_docs)
    dev_s = sentences(read_conll(args.dev))
    if not args.holdout:
        val_s = dev_s
    labels = sorted({t[3][2:] for s in train_s for t in s if t[3] != "O"})
    tags = tag_set(labels, args.scheme)
    chars = ["<pad>", "<unk>"] + sorted({c for s in train_s for t in s for c in t[0]})
    gaz = load_gazetteer(args.gazetteer)
    enc = Encoder(words, chars, gaz, affixes, tags, args.scheme)
    train_items = [(*enc.encode(s), None, lm) for s, lm in zip(train_s, lm_states(train_s))]
    dev_items = [(*enc.encode(s), None, lm) for s, lm in zip(dev_s, lm_states(dev_s))]
    val_items = [(*enc.encode(s), None, lm) for s, lm in zip(val_s, lm_states(val_s))]
    say(f"seed {args.seed} scheme {args.scheme}: {len(train_items)} train / {len(val_items)} validation / "
        f"{len(dev_items)} dev sentences, {len(tags)} tags, {len(chars)} chars, {len(words)} words")
else:
    from english.corpora import load, LABELS, SCORED
    labels = LABELS
    tags = tag_set(LABELS, args.scheme)
    train_names = args.train_corpora or SCORED
    train = load(args.corpora, "train", train_names)
    devel = load(args.corpora, "devel", list(SCORED) + [n for n in train_names if n not in SCORED])
    if args.limit:
        train = {k: (l, s[:args.limit]) for k, (l, s) in train.items()}
        devel = {k: (l, s[:args.limit]) for k, (l, s) in devel.items()}
    chars = ["<pad>", "<unk>"] + sorted({c for _, ss in train.values() for s in ss for t, _ in s for c in t})
    enc = Encoder(words, chars, set(), affixes, tags, args.scheme)

    def allowed_tags(corpus_labels):
        """Tag indices an O token of a corpus annotating `corpus_labels` may take."""
        return [0] + [i for i, t in enumerate(tags) if t != "O" and t[2:] not in corpus_labels]

    def encode(corpus_labels, sents):
        free = allowed_tags(corpus_labels)
        items = []
        for s, lm in zip(sents, lm_states([[(t,) for t, _ in s] for s in sents])):
            toks, gold = enc.encode([(t, 0, 0, g) for t, g in s])
            allow = np.zeros((len(gold), len(tags)), dtype=bool)
            for i, g in enumerate(gold):
                allow[i, free if g == 0 else [g]] = True
            items.append((toks, gold, allow, lm))
        return items

    train_items = [it for corpus_labels, ss in train.values() for it in encode(corpus_labels, ss)]
    dev_sets = {name: (corpus_labels, encode(corpus_labels, ss)) for name, (corpus_labels, ss) in devel.items()}
    say(f"seed {args.seed}: {len(train_items)} train sentences "
        f"({', '.join(f'{k} {len(v[1])}' for k, v in train.items())}), "
        f"{sum(len(v[1]) for v in dev_sets.values())} devel, {len(tags)} tags, {len(chars)} chars, {len(words)} words")


def read_aux(path):
    """token<TAB>tag lines, blank line between sentences, -DOCSTART- lines ignored."""
    out, sent = [], []
    for line in open(path, encoding="utf-8"):
        cols = line.rstrip("\n").split("\t")
        if not cols[0] or cols[0] == "-DOCSTART-":
            if sent:
                out.append(sent)
                sent = []
            continue
        sent.append((cols[0], 0, 0, cols[1] if len(cols) > 1 else "O"))
    if sent:
        out.append(sent)
    return out


aux_items = []
if args.aux:
    aux_s = read_aux(args.aux)
    aux_labels = sorted({t[3][2:] for s in aux_s for t in s if t[3] != "O"})
    aux_tags = tag_set(aux_labels, "bio")
    aux_enc = Encoder(words, chars, enc.gaz, affixes, aux_tags, "bio")
    aux_items = [(*aux_enc.encode(s), None, lm) for s, lm in zip(aux_s, lm_states(aux_s))]
    say(f"auxiliary: {len(aux_items)} sentences, tags {aux_tags}, {args.aux_fraction:.0%} an epoch, "
        f"weight {args.aux_weight}")

silver_items = []
if args.silver:
    assert args.language == "es", "--silver is for es"
    silver_s = [s for s in sentences(read_conll(args.silver)) if len(s) <= 250]
    silver_items = [(*enc.encode(s), None, lm) for s, lm in zip(silver_s, lm_states(silver_s))]
    silver_budget = args.silver_tokens or sum(len(it[0]) for it in train_items)
    say(f"silver: {len(silver_items)} sentences, {sum(len(it[0]) for it in silver_items)} tokens, "
        f"{silver_budget} tokens an epoch, weight {args.silver_weight}")

# --- Model and optimizers ---------------------------------------------------------------------------
model = BiLSTMCRF(vectors, len(chars), tags, args.scheme, hidden=args.hidden, dropout=args.dropout,
                  lm_dim=2 * embedder.hidden if embedder else 0)
if args.tune_words:
    model.word = torch.nn.Embedding.from_pretrained(torch.as_tensor(vectors), freeze=False, sparse=True)
    model.config["tune_words"] = True
if aux_items:
    model.add_aux(aux_tags)
if args.init:
    init = torch.load(args.init, weights_only=False)
    assert init["chars"] == chars and init["labels"] == labels, "--init model has other vocabularies"
    model.load_state_dict(init["state"], strict=False)
    say(f"continuing from {args.init} (epoch {init['epoch']}, dev F1 {init.get('dev_f1_tokens')})")
params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("word.")]
opt = torch.optim.Adam(params, lr=args.lr)
word_opt = torch.optim.SparseAdam([model.word.weight], lr=args.lr / 2) if args.tune_words else None
gen = torch.Generator().manual_seed(args.seed)
# The moving average of the weights (--ema), its decay warmed up as (1 + n) / (10 + n) over the first steps.
ema = {n: p.detach().clone() for n, p in model.named_parameters()} if args.ema else None
ema_steps = 0


def ema_update():
    global ema_steps
    decay = min(args.ema, (1 + ema_steps) / (10 + ema_steps))
    ema_steps += 1
    with torch.no_grad():
        for n, p in model.named_parameters():
            ema[n].lerp_(p.detach(), 1 - decay)


class averaged:
    """Within the block the model holds the averaged weights (with --ema), then its own again."""
    def __enter__(self):
        if ema is not None:
            self.own = {n: p.detach().clone() for n, p in model.named_parameters()}
            with torch.no_grad():
                for n, p in model.named_parameters():
                    p.copy_(ema[n])

    def __exit__(self, *exc):
        if ema is not None:
            with torch.no_grad():
                for n, p in model.named_parameters():
                    p.copy_(self.own[n])


def partial_nll(em, allow, mask):
    """-log sum over consistent paths + log Z, one forward pass over [unconstrained; constrained]."""
    start, trans, end = model.crf.effective()
    B = em.shape[0]
    em2 = torch.cat([em, em + (~allow).float() * NEG], 0)
    mask2 = torch.cat([mask, mask], 0)
    alpha = start + em2[:, 0]
    for i in range(1, em.shape[1]):
        nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + em2[:, i]
        alpha = torch.where(mask2[:, i:i + 1], nxt, alpha)
    z = torch.logsumexp(alpha + end, dim=1)
    return (z[:B] - z[B:]).mean()


def allow_tensor(items):
    L = max(len(it[0]) for it in items)
    a = np.ones((len(items), L, len(tags)), dtype=bool)
    for b, it in enumerate(items):
        a[b, :len(it[2])] = it[2]
    return torch.from_numpy(a)


def emissions_of(items, batch=64 if args.language == "es" else 128):
    """Emissions [tokens, tags] of each (tokens, gold) item, in eval mode."""
    model.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    out = [None] * len(items)
    with torch.no_grad():
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            em = model.emissions(batchify([items[i] for i in idx]))
            for j, i in enumerate(idx):
                out[i] = em[j, :len(items[i][0])].clone()
    return out


def counts(items, keep=None):
    """(tp, fp, fn) per label of exact token spans; `keep` limits predictions to some labels."""
    start, trans, end = (t.detach().numpy() for t in model.crf.effective())
    table = {}
    for (toks, gold), em in zip([it[:2] for it in items], emissions_of(items)):
        path = viterbi_np(em.numpy(), start, trans, end)
        p = {s for s in decode([tags[i] for i in path]) if keep is None or s[2] in keep}
        g = decode([tags[i] for i in gold])
        for s in p & g: table.setdefault(s[2], [0, 0, 0])[0] += 1
        for s in p - g: table.setdefault(s[2], [0, 0, 0])[1] += 1
        for s in g - p: table.setdefault(s[2], [0, 0, 0])[2] += 1
    return table


def evaluate():
    """(selection score, dev score, line for the log, extra checkpoint fields)."""
    if args.language == "es":
        f1, p, r = token_f1([sum(c[k] for c in counts(val_items).values()) for k in range(3)])
        dev = token_f1([sum(c[k] for c in counts(dev_items).values()) for k in range(3)]) if args.holdout else (f1, p, r)
        return f1, dev[0], f"validation F1 {f1:.4f} P {p:.4f} R {r:.4f} dev F1 {dev[0]:.4f}", {
            "dev_f1_tokens": dev[0], "validation_f1_tokens": f1}
    # en: per corpus, exact token-span F1 over the labels that corpus annotates (predictions of the
    # other labels are not scored there, having no gold); selection on the mean over corpora.
    table, corpus_f1 = {}, []
    for name, (corpus_labels, items) in dev_sets.items():
        c = counts(items, keep=corpus_labels)
        rows = {l: c.get(l, [0, 0, 0]) for l in corpus_labels}
        total = [sum(v[k] for v in rows.values()) for k in range(3)]
        if name not in SCORED:  # logged only, under the corpus name
            table[name] = round(token_f1(total)[0], 4)
            continue
        for l, v in list(rows.items()) + [(name, total)]:
            table[l] = round(token_f1(v)[0], 4)
        corpus_f1.append(table[name])
    score = sum(corpus_f1) / len(corpus_f1)
    return score, score, f"devel {json.dumps(table)} mean {score:.4f}", {
        "dev_f1_tokens": score, "dev_table": table, "train_corpora": list(train_names)}


# --- Training loop ----------------------------------------------------------------------------------
best, best_epoch, best_dev, t0, first = -1.0, 0, None, time.time(), 1
last_path = os.path.join(args.out, "last.pt")
if os.path.exists(last_path):  # resume an interrupted run where its last finished epoch left it
    ck = torch.load(last_path, weights_only=False)
    model.load_state_dict(ck["state"]); opt.load_state_dict(ck["opt"])
    if word_opt:
        word_opt.load_state_dict(ck["word_opt"])
    random.setstate(ck["random"]); gen.set_state(ck["gen"]); torch.set_rng_state(ck["torch"])
    best, best_epoch, best_dev, first = ck["best"], ck["best_epoch"], ck["best_dev"], ck["epoch"] + 1
    if ema is not None:
        ema, ema_steps = ck["ema"], ck["ema_steps"]
    t0 -= ck["seconds"]
    say(f"resuming after epoch {ck['epoch']} (best {best:.4f} at {best_epoch})")
for epoch in range(first, args.epochs + 1):
    if epoch - best_epoch > args.patience and best_epoch and not args.keep_last:
        break
    model.train()
    order = list(range(len(train_items)))
    random.shuffle(order)
    # bucket by length for speed, keep randomness across buckets
    chunks = [order[i:i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
    batches = []
    for ch in chunks:
        ch.sort(key=lambda i: len(train_items[i][0]))
        batches += [("gold", ch[i:i + args.batch]) for i in range(0, len(ch), args.batch)]
    if aux_items:
        pick = random.sample(range(len(aux_items)), int(len(aux_items) * args.aux_fraction))
        pick.sort(key=lambda i: len(aux_items[i][0]))
        batches += [("aux", pick[k:k + args.batch]) for k in range(0, len(pick), args.batch)]
    if silver_items:
        pick, n = [], 0
        for i in random.sample(range(len(silver_items)), len(silver_items)):
            if n >= silver_budget:
                break
            pick.append(i); n += len(silver_items[i][0])
        pick.sort(key=lambda i: len(silver_items[i][0]))
        batches += [("silver", pick[k:k + args.batch]) for k in range(0, len(pick), args.batch)]
    random.shuffle(batches)
    total = 0.0
    te = time.time()
    for kind, idx in batches:
        if kind == "aux":
            b = batchify([aux_items[i] for i in idx], args.word_dropout, gen)
            loss = args.aux_weight * model.aux_crf.nll(model.emissions(b, aux=True), b["tags"], b["mask"])
        elif kind == "silver":
            b = batchify([silver_items[i] for i in idx], args.word_dropout, gen)
            loss = args.silver_weight * model.crf.nll(model.emissions(b), b["tags"], b["mask"])
        else:
            its = [train_items[i] for i in idx]
            b = batchify(its, args.word_dropout, gen)
            if its[0][2] is None:
                loss = model.crf.nll(model.emissions(b), b["tags"], b["mask"])
            else:
                loss = partial_nll(model.emissions(b), allow_tensor(its), b["mask"])
        opt.zero_grad()
        if word_opt:
            word_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        if word_opt:
            word_opt.step()
        if ema is not None:
            ema_update()
        total += float(loss.detach()) * len(idx)
    with averaged():
        score, dev, line, fields = evaluate()
        say(f"epoch {epoch} loss {total / len(train_items):.3f} {line} ({time.time() - te:.0f}s)")
        if score > best or args.keep_last:
            best, best_epoch, best_dev = score, epoch, dev
            state = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("aux_")}
            kept = {"state": state, "config": model.config, "chars": chars, "labels": labels, **fields,
                    "epoch": epoch, "seed": args.seed, "ema": args.ema}
            torch.save(kept, os.path.join(args.out, "model.pt"))
            if args.snapshots and args.keep_last:
                torch.save(kept, os.path.join(args.out, f"model-e{epoch}.pt"))
    torch.save({"state": model.state_dict(), "opt": opt.state_dict(),
                "word_opt": word_opt.state_dict() if word_opt else None, "random": random.getstate(),
                "gen": gen.get_state(), "torch": torch.get_rng_state(), "epoch": epoch, "best": best,
                "best_epoch": best_epoch, "best_dev": best_dev, "seconds": time.time() - t0,
                "ema": ema, "ema_steps": ema_steps},
               last_path + ".tmp")
    os.replace(last_path + ".tmp", last_path)
    if args.max_minutes and (time.time() - t0) + (time.time() - te) > args.max_minutes * 60:
        say(f"time budget of {args.max_minutes} min reached")
        break
say(f"best selection F1 {best:.4f} at epoch {best_epoch} (dev {best_dev:.4f}); {time.time() - t0:.0f}s")
json.dump({"dev_f1_tokens": best_dev, "selection_f1_tokens": best, "epoch": best_epoch,
           "holdout": args.holdout, "seconds": round(time.time() - t0)},
          open(os.path.join(args.out, "result.json"), "w"))
