"""Contextual character language models (as Flair does): a forward and a backward one-layer LSTM
over characters, trained on medtag-tokenized raw text (one sentence a line, tokens separated by one
space). A token's contextual embedding is the forward state after its last character and the
backward state after its first character (the backward model reads the sentence right to left).

The same sentence string is built here and in the Swift engine: BOUNDARY + tokens joined by one
space + BOUNDARY; characters are Unicode scalars, unknown ones map to id 0.

  python charlm.py train --corpus corpus.tok --direction forward --out work/charlm/forward
  python charlm.py vocab --corpus corpus.tok --out work/charlm/chars.json
"""
import argparse, json, math, os, random, sys, time
from collections import Counter

import numpy as np
import torch
import torch.nn as nn

BOUNDARY = "\n"


class CharLM(nn.Module):
    def __init__(self, n_chars, emb=64, hidden=256, dropout=0.1):
        super().__init__()
        self.config = dict(n_chars=n_chars, emb=emb, hidden=hidden)
        self.emb = nn.Embedding(n_chars, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_chars)

    def forward(self, x, state=None):
        h, state = self.lstm(self.emb(x), state)
        return self.out(self.drop(h)), state

    @torch.no_grad()
    def states(self, x, lengths):
        """x [B, T] char ids (padded at the end), lengths [B] -> hidden states [B, T, H]."""
        h, _ = self.lstm(self.emb(x))
        return h


def load_vocab(path):
    chars = json.load(open(path, encoding="utf-8"))["chars"]
    return {c: i for i, c in enumerate(chars)}, chars


def sentence_string(tokens):
    return BOUNDARY + " ".join(tokens) + BOUNDARY


def token_positions(tokens):
    """(first, last) character index of each token in sentence_string(tokens)."""
    out, pos = [], 1
    for t in tokens:
        out.append((pos, pos + len(t) - 1))
        pos += len(t) + 1
    return out


def encode(text, c2i):
    return [c2i.get(c, 0) for c in text]


def load_model(directory):
    ck = torch.load(os.path.join(directory, "model.pt"), weights_only=False)
    m = CharLM(**ck["config"])
    m.load_state_dict(ck["state"])
    m.eval()
    return m


class Embedder:
    """Contextual token embeddings [tokens, 2H] of sentences from a forward and a backward model."""

    def __init__(self, directory):
        """The language models trained into `directory` (chars.json, forward/, backward/)."""
        _, chars = load_vocab(os.path.join(directory, "chars.json"))
        self.setup(chars, load_model(os.path.join(directory, "forward")), load_model(os.path.join(directory, "backward")))

    def setup(self, chars, fwd, bwd):
        self.chars = chars
        self.c2i = {c: i for i, c in enumerate(chars)}
        self.fwd, self.bwd = fwd, bwd
        self.hidden = fwd.config["hidden"]

    @classmethod
    def from_export(cls, chars, tensors, embedding, hidden):
        """The language models of an exported model: `tensors` (numpy) named charlm.DIRECTION.*."""
        self = cls.__new__(cls)
        from model import load_exported
        self.setup(chars, *(load_exported(CharLM(len(chars), embedding, hidden), tensors, f"charlm.{direction}.")
                            for direction in ("forward", "backward")))
        return self

    @torch.no_grad()
    def embed(self, sents, batch=64, dtype=np.float16):
        """sents: [[token str]] -> [array [len, 2H]] in the same order (float16 saves memory when
        a whole corpus is kept; the exporter's parity reference asks for float32)."""
        order = sorted(range(len(sents)), key=lambda i: len(sentence_string(sents[i])))
        out = [None] * len(sents)
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            strs = [sentence_string(sents[i]) for i in idx]
            T = max(len(s) for s in strs)
            f = torch.zeros(len(idx), T, dtype=torch.long)
            b = torch.zeros(len(idx), T, dtype=torch.long)
            for j, s in enumerate(strs):
                ids = encode(s, self.c2i)
                f[j, :len(ids)] = torch.tensor(ids)
                b[j, :len(ids)] = torch.tensor(ids[::-1])
            hf = self.fwd.states(f, None)
            hb = self.bwd.states(b, None)
            for j, i in enumerate(idx):
                n = len(strs[j])
                pos = token_positions(sents[i])
                last = torch.tensor([p[1] for p in pos])
                first = torch.tensor([n - 1 - p[0] for p in pos])
                e = torch.cat([hf[j, last], hb[j, first]], dim=1)
                out[i] = e.numpy().astype(dtype)
        return out


def cmd_vocab(args):
    counts = Counter()
    for line in open(args.corpus, encoding="utf-8"):
        counts.update(line.rstrip("\n"))
    keep = [c for c, n in counts.most_common() if n >= args.min_count and c != BOUNDARY][:args.max_chars]
    chars = ["<unk>", BOUNDARY] + sorted(keep)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    json.dump({"chars": chars, "boundary": BOUNDARY}, open(args.out, "w", encoding="utf-8"), ensure_ascii=False)
    print(f"{len(chars)} characters (of {len(counts)}) -> {args.out}", file=sys.stderr)


def cmd_train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed); random.seed(args.seed)
    c2i, chars = load_vocab(args.vocab)
    text = []
    for line in open(args.corpus, encoding="utf-8"):
        line = line.rstrip("\n")
        if line:
            text.append(BOUNDARY + line)
    stream = "".join(text) + BOUNDARY
    if args.direction == "backward":
        stream = stream[::-1]
    ids = torch.tensor(encode(stream, c2i), dtype=torch.long)
    n_val = min(200_000, len(ids) // 50)
    val, ids = ids[-n_val:], ids[:-n_val]
    B, T = args.batch, args.bptt
    per = len(ids) // B
    data = ids[:per * B].view(B, per)
    vdata = val[:(len(val) // B) * B].view(B, -1)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "log.txt"), "a")
    def say(msg):
        print(msg, file=sys.stderr, flush=True); log.write(msg + "\n"); log.flush()
    model = CharLM(len(chars), args.emb, args.hidden, args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (per - 1) // T
    total_steps = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps,
                                                pct_start=0.05, anneal_strategy="cos")
    last = os.path.join(args.out, "last.pt")
    step = 0
    if os.path.exists(last):
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["state"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        step = ck["step"]
        say(f"resuming at step {step}")
    say(f"{args.direction}: {len(ids):,} training characters, {len(val):,} validation, {len(chars)} symbols, "
        f"hidden {args.hidden}, {steps_per_epoch} steps an epoch, {args.epochs} epochs")

    def validate():
        model.eval()
        loss, n, state = 0.0, 0, None
        with torch.no_grad():
            for k in range(0, vdata.shape[1] - 1, T):
                x = vdata[:, k:k + T]; y = vdata[:, k + 1:k + 1 + T]
                x = x[:, :y.shape[1]]
                logits, state = model(x, state)
                loss += float(nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1), reduction="sum"))
                n += y.numel()
        model.train()
        return loss / n

    def save(path):
        torch.save({"state": model.state_dict(), "config": model.config, "direction": args.direction,
                    "step": step}, path + ".tmp")
        os.replace(path + ".tmp", path)

    t0 = time.time()
    model.train()
    state = None
    while step < total_steps:
        k = (step % steps_per_epoch) * T
        if k == 0:
            state = None
        x = data[:, k:k + T]; y = data[:, k + 1:k + 1 + T]
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step(); sched.step()
        step += 1
        if step % 200 == 0 or step == total_steps:
            rate = 200 * B * T / (time.time() - t0); t0 = time.time()
            say(f"step {step}/{total_steps} loss {float(loss):.3f} ({rate:,.0f} chars/s)")
        if step % args.checkpoint == 0 or step == total_steps:
            v = validate()
            say(f"step {step} validation loss {v:.4f} (perplexity {math.exp(v):.2f})")
            save(os.path.join(args.out, "model.pt"))
            torch.save({"state": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "step": step}, last + ".tmp")
            os.replace(last + ".tmp", last)
    say("done")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vocab")
    v.add_argument("--corpus", required=True)
    v.add_argument("--out", required=True)
    v.add_argument("--min-count", type=int, default=20)
    v.add_argument("--max-chars", type=int, default=250)
    t = sub.add_parser("train")
    t.add_argument("--corpus", required=True)
    t.add_argument("--vocab", required=True)
    t.add_argument("--direction", choices=["forward", "backward"], required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--emb", type=int, default=64)
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--bptt", type=int, default=250)
    t.add_argument("--lr", type=float, default=0.004)
    t.add_argument("--clip", type=float, default=1.0)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--checkpoint", type=int, default=300)
    args = ap.parse_args()
    {"vocab": cmd_vocab, "train": cmd_train}[args.cmd](args)


if __name__ == "__main__":
    main()
