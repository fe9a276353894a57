"""Trains the English Bi-LSTM-CRF (Chemical, Disease, GENE) on BC5CDR + BC2GM with a partial
(marginal) CRF loss: each corpus annotates only some labels, so a token it tags O may be O or
part of a mention of a label it does not annotate. The loss is -log of the total probability of
every tag path consistent with what the corpus does say (a gold entity tag fixes the token's tag;
an O allows O or any tag of the labels the corpus leaves out). Same network and runtime features
as the Spanish model (training/model.py); writes run_dir/model.pt in the same checkpoint format."""
import argparse, json, os, random, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from data import Encoder, batchify, spans  # noqa: E402
from features import load_affixes  # noqa: E402
from model import BiLSTMCRF, tag_set, viterbi_np, NEG  # noqa: E402
from corpora import load, LABELS  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--corpora", required=True)
ap.add_argument("--emb", required=True)
ap.add_argument("--affixes", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--epochs", type=int, default=30)
ap.add_argument("--patience", type=int, default=5)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=0.003)
ap.add_argument("--hidden", type=int, default=100)
ap.add_argument("--dropout", type=float, default=0.5)
ap.add_argument("--word-dropout", type=float, default=0.05)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--max-minutes", type=float, default=0, help="stop when another epoch would pass this")
ap.add_argument("--limit", type=int, default=0, help="sentences per corpus (smoke tests)")
args = ap.parse_args()

torch.set_num_threads(args.threads)
random.seed(args.seed); np.random.seed(args.seed); torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "log.txt"), "a")
def say(*a):
    msg = " ".join(str(x) for x in a)
    print(msg, file=sys.stderr, flush=True); log.write(msg + "\n"); log.flush()

SCHEME = "bioes"
tags = tag_set(LABELS, SCHEME)
t2i = {t: i for i, t in enumerate(tags)}
train = load(args.corpora, "train")
dev = load(args.corpora, "devel")
if args.limit:
    train = {k: (l, s[:args.limit]) for k, (l, s) in train.items()}
    dev = {k: (l, s[:args.limit]) for k, (l, s) in dev.items()}
words = [w.rstrip("\n") for w in open(os.path.join(args.emb, "words.txt"), encoding="utf-8")]
vectors = np.load(os.path.join(args.emb, "vectors.npy"))
chars = ["<pad>", "<unk>"] + sorted({c for _, ss in train.values() for s in ss for t, _ in s for c in t})
affixes = load_affixes(args.affixes)
enc = Encoder(words, chars, set(), affixes, tags, SCHEME)


def allowed_tags(labels):
    """Tag indices an O token of a corpus annotating `labels` may take."""
    return [0] + [i for i, t in enumerate(tags) if t != "O" and t[2:] not in labels]


def encode(labels, sents):
    free = allowed_tags(labels)
    items = []
    for s in sents:
        toks, gold = enc.encode([(t, 0, 0, g) for t, g in s])
        allow = np.zeros((len(gold), len(tags)), dtype=bool)
        for i, g in enumerate(gold):
            allow[i, free if g == 0 else [g]] = True
        items.append((toks, gold, allow))
    return items


train_items = [it for labels, ss in train.values() for it in encode(labels, ss)]
dev_sets = {name: (labels, encode(labels, ss)) for name, (labels, ss) in dev.items()}
say(f"seed {args.seed}: {len(train_items)} train sentences "
    f"({', '.join(f'{k} {len(v[1])}' for k, v in train.items())}), "
    f"{sum(len(v[1]) for v in dev_sets.values())} devel, {len(tags)} tags, {len(chars)} chars, {len(words)} words")

model = BiLSTMCRF(vectors, len(chars), tags, SCHEME, hidden=args.hidden, dropout=args.dropout)
params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("word.")]
opt = torch.optim.Adam(params, lr=args.lr)
gen = torch.Generator().manual_seed(args.seed)


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


def evaluate():
    """Per corpus: exact token-span F1 over the labels that corpus annotates (predictions of the
    other labels are not scored there, having no gold). Returns (selection score, table)."""
    model.eval()
    start, trans, end = (t.detach().numpy() for t in model.crf.effective())
    table, corpus_f1 = {}, []
    with torch.no_grad():
        for name, (labels, items) in dev_sets.items():
            counts = {l: [0, 0, 0] for l in labels}
            order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
            for k in range(0, len(order), 128):
                idx = order[k:k + 128]
                em = model.emissions(batchify([items[i][:2] for i in idx])).numpy()
                for j, i in enumerate(idx):
                    n = len(items[i][0])
                    path = viterbi_np(em[j, :n], start, trans, end)
                    p = {s for s in spans([tags[t] for t in path]) if s[2] in labels}
                    g = spans([tags[t] for t in items[i][1]])
                    for s in p & g: counts[s[2]][0] += 1
                    for s in p - g: counts[s[2]][1] += 1
                    for s in g - p: counts[s[2]][2] += 1
            tot = [sum(c[x] for c in counts.values()) for x in range(3)]
            for l, (tp, fp, fn) in list(counts.items()) + [(name, tot)]:
                p = tp / max(tp + fp, 1); r = tp / max(tp + fn, 1)
                table[l] = round(2 * p * r / max(p + r, 1e-9), 4)
            corpus_f1.append(table[name])
    return sum(corpus_f1) / len(corpus_f1), table


best, best_epoch, t0 = -1.0, 0, time.time()
for epoch in range(1, args.epochs + 1):
    model.train()
    order = list(range(len(train_items)))
    random.shuffle(order)
    chunks = [order[i:i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
    batches = []
    for ch in chunks:
        ch.sort(key=lambda i: len(train_items[i][0]))
        batches += [ch[i:i + args.batch] for i in range(0, len(ch), args.batch)]
    random.shuffle(batches)
    total, te = 0.0, time.time()
    for idx in batches:
        its = [train_items[i] for i in idx]
        b = batchify([it[:2] for it in its], args.word_dropout, gen)
        loss = partial_nll(model.emissions(b), allow_tensor(its), b["mask"])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        total += float(loss.detach()) * len(idx)
    score, table = evaluate()
    say(f"epoch {epoch} loss {total / len(train_items):.3f} devel {json.dumps(table)} mean {score:.4f} "
        f"({time.time() - te:.0f}s)")
    if score > best:
        best, best_epoch = score, epoch
        torch.save({"state": model.state_dict(), "config": model.config, "chars": chars,
                    "labels": LABELS, "dev_f1_tokens": score, "dev_table": table, "epoch": epoch,
                    "seed": args.seed}, os.path.join(args.out, "model.pt"))
    elif epoch - best_epoch >= args.patience:
        break
    if args.max_minutes and (time.time() - t0) + (time.time() - te) > args.max_minutes * 60:
        say(f"time budget of {args.max_minutes} min reached")
        break
say(f"best devel mean F1 {best:.4f} at epoch {best_epoch}; {time.time() - t0:.0f}s")
json.dump({"dev_f1_tokens": best, "epoch": best_epoch, "seconds": round(time.time() - t0)},
          open(os.path.join(args.out, "result.json"), "w"))
