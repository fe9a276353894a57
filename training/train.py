"""Trains one Bi-LSTM-CRF (one seed) with early stopping on dev; writes run_dir/model.pt."""
import argparse, json, os, random, sys, time
import numpy as np
import torch

from conll import read_conll, sentences
from data import Encoder, batchify, spans, bio_spans, convert_tag
from features import load_gazetteer, load_affixes
from model import BiLSTMCRF, tag_set, viterbi_np

ap = argparse.ArgumentParser()
ap.add_argument("--train", required=True)
ap.add_argument("--dev", required=True)
ap.add_argument("--emb", required=True, help="folder with words.txt and vectors.npy")
ap.add_argument("--gazetteer", required=True)
ap.add_argument("--affixes", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--scheme", default="bmewov")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--epochs", type=int, default=40)
ap.add_argument("--patience", type=int, default=7)
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--lr", type=float, default=0.002)
ap.add_argument("--hidden", type=int, default=100)
ap.add_argument("--dropout", type=float, default=0.5)
ap.add_argument("--word-dropout", type=float, default=0.05)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--tune-words", action="store_true", help="fine-tune the word vectors (SparseAdam)")
ap.add_argument("--init", help="continue from this model.pt (same vocabularies and sizes)")
ap.add_argument("--holdout", type=int, default=0,
                help="every Nth training document is held out for early stopping (0: stop on --dev)")
ap.add_argument("--aux", help="auxiliary corpus (token<TAB>BIO tag CoNLL): a second output trained on it")
ap.add_argument("--aux-fraction", type=float, default=0.25, help="share of the auxiliary sentences used each epoch")
ap.add_argument("--aux-weight", type=float, default=0.5, help="weight of the auxiliary loss")
args = ap.parse_args()

torch.set_num_threads(args.threads)
random.seed(args.seed); np.random.seed(args.seed); torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "log.txt"), "a")
def say(*a):
    msg = " ".join(str(x) for x in a)
    print(msg, file=sys.stderr, flush=True); log.write(msg + "\n"); log.flush()

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
words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy"))
chars = ["<pad>", "<unk>"] + sorted({c for s in train_s for t in s for c in t[0]})
gaz = load_gazetteer(args.gazetteer)
affixes = load_affixes(args.affixes)
enc = Encoder(words, chars, gaz, affixes, tags, args.scheme)
train_items = [enc.encode(s) for s in train_s]
dev_items = [enc.encode(s) for s in dev_s]
val_items = [enc.encode(s) for s in val_s]
say(f"seed {args.seed} scheme {args.scheme}: {len(train_items)} train / {len(val_items)} validation / "
    f"{len(dev_items)} dev sentences, {len(tags)} tags, {len(chars)} chars, {len(words)} words")


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
    aux_enc = Encoder(words, chars, gaz, affixes, aux_tags, "bio")
    aux_items = [aux_enc.encode(s) for s in aux_s]
    say(f"auxiliary: {len(aux_items)} sentences, tags {aux_tags}, {args.aux_fraction:.0%} an epoch, "
        f"weight {args.aux_weight}")

model = BiLSTMCRF(vectors, len(chars), tags, args.scheme, hidden=args.hidden, dropout=args.dropout)
if args.tune_words:
    model.word = torch.nn.Embedding.from_pretrained(torch.as_tensor(vectors), freeze=False, sparse=True)
    model.config["tune_words"] = True
if aux_items:
    model.add_aux(aux_tags)
if args.init:
    init = torch.load(args.init, weights_only=False)
    assert init["chars"] == chars and init["labels"] == labels, "--init model has other vocabularies"
    model.load_state_dict(init["state"])
    say(f"continuing from {args.init} (epoch {init['epoch']}, dev F1 {init.get('dev_f1_tokens')})")
params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("word.")]
opt = torch.optim.Adam(params, lr=args.lr)
word_opt = torch.optim.SparseAdam([model.word.weight], lr=args.lr / 2) if args.tune_words else None
gen = torch.Generator().manual_seed(args.seed)
decode = bio_spans if args.scheme == "bio" else spans


def dev_emissions(items):
    model.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    out = [None] * len(items)
    with torch.no_grad():
        for k in range(0, len(order), 64):
            idx = order[k:k + 64]
            b = batchify([items[i] for i in idx])
            em = model.emissions(b)
            for j, i in enumerate(idx):
                out[i] = em[j, :len(items[i][0])].clone()
    return out


def score(items, ems):
    tp = fp = fn = 0
    start, trans, end = (t.detach().numpy() for t in model.crf.effective())
    for (toks, gold), em in zip(items, ems):
        path = viterbi_np(em.numpy(), start, trans, end)
        p = decode([tags[i] for i in path]); g = decode([tags[i] for i in gold])
        tp += len(p & g); fp += len(p - g); fn += len(g - p)
    pr = tp / max(tp + fp, 1); rc = tp / max(tp + fn, 1)
    return 2 * pr * rc / max(pr + rc, 1e-9), pr, rc


best, best_epoch, best_dev, t0, first = -1.0, 0, None, time.time(), 1
last_path = os.path.join(args.out, "last.pt")
if os.path.exists(last_path):  # resume an interrupted run where its last finished epoch left it
    ck = torch.load(last_path, weights_only=False)
    model.load_state_dict(ck["state"]); opt.load_state_dict(ck["opt"])
    if word_opt:
        word_opt.load_state_dict(ck["word_opt"])
    random.setstate(ck["random"]); gen.set_state(ck["gen"]); torch.set_rng_state(ck["torch"])
    best, best_epoch, best_dev, first = ck["best"], ck["best_epoch"], ck["best_dev"], ck["epoch"] + 1
    t0 -= ck["seconds"]
    say(f"resuming after epoch {ck['epoch']} (best {best:.4f} at {best_epoch})")
for epoch in range(first, args.epochs + 1):
    if epoch - best_epoch > args.patience and best_epoch:
        break
    model.train()
    order = list(range(len(train_items)))
    random.shuffle(order)
    # bucket by length for speed, keep randomness across buckets
    chunks = [order[i:i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
    batches = []
    for ch in chunks:
        ch.sort(key=lambda i: len(train_items[i][0]))
        batches += [ch[i:i + args.batch] for i in range(0, len(ch), args.batch)]
    main_batches = len(batches)
    if aux_items:
        pick = random.sample(range(len(aux_items)), int(len(aux_items) * args.aux_fraction))
        pick.sort(key=lambda i: len(aux_items[i][0]))
        batches += [[-1 - i for i in pick[k:k + args.batch]] for k in range(0, len(pick), args.batch)]
    random.shuffle(batches)
    total = 0.0
    te = time.time()
    for idx in batches:
        if idx[0] < 0:
            b = batchify([aux_items[-1 - i] for i in idx], args.word_dropout, gen)
            loss = args.aux_weight * model.aux_crf.nll(model.emissions(b, aux=True), b["tags"], b["mask"])
        else:
            b = batchify([train_items[i] for i in idx], args.word_dropout, gen)
            loss = model.crf.nll(model.emissions(b), b["tags"], b["mask"])
        opt.zero_grad()
        if word_opt:
            word_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        if word_opt:
            word_opt.step()
        total += float(loss.detach()) * len(idx)
    f1, p, r = score(val_items, dev_emissions(val_items))
    dev = score(dev_items, dev_emissions(dev_items)) if args.holdout else (f1, p, r)
    say(f"epoch {epoch} loss {total / len(train_items):.3f} validation F1 {f1:.4f} P {p:.4f} R {r:.4f} "
        f"dev F1 {dev[0]:.4f} ({time.time() - te:.0f}s)")
    if f1 > best:
        best, best_epoch, best_dev = f1, epoch, dev[0]
        state = {k: v for k, v in model.state_dict().items() if not k.startswith("aux_")}
        torch.save({"state": state, "config": model.config, "chars": chars,
                    "labels": labels, "dev_f1_tokens": dev[0], "validation_f1_tokens": f1,
                    "epoch": epoch, "seed": args.seed}, os.path.join(args.out, "model.pt"))
    torch.save({"state": model.state_dict(), "opt": opt.state_dict(),
                "word_opt": word_opt.state_dict() if word_opt else None, "random": random.getstate(),
                "gen": gen.get_state(), "torch": torch.get_rng_state(), "epoch": epoch, "best": best,
                "best_epoch": best_epoch, "best_dev": best_dev, "seconds": time.time() - t0},
               last_path + ".tmp")
    os.replace(last_path + ".tmp", last_path)
say(f"best validation F1 {best:.4f} at epoch {best_epoch} (dev {best_dev:.4f}); {time.time() - t0:.0f}s")
json.dump({"dev_f1_tokens": best_dev, "validation_f1_tokens": best, "epoch": best_epoch,
           "holdout": args.holdout, "seconds": round(time.time() - t0)},
          open(os.path.join(args.out, "result.json"), "w"))
