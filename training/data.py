"""Turns CoNLL sentences into padded tensors with the runtime's feature rules."""
import torch

from features import (word_key, clip_chars, casing, affix_flags, gazetteer_flag)

BMEWOV_TO = {
    "bmewov": {},
    "bioes": {"M": "I", "W": "S", "V": "I"},
    "bio": {"M": "I", "E": "I", "W": "B", "V": "I"},
}


def convert_tag(tag, scheme):
    if tag == "O":
        return tag
    p = BMEWOV_TO[scheme].get(tag[0], tag[0])
    return p + tag[1:]


class Encoder:
    def __init__(self, words, chars, gazetteer, affixes, tags, scheme):
        self.w2i = {w: i for i, w in enumerate(words)}
        self.c2i = {c: i for i, c in enumerate(chars)}  # 0 pad, 1 unk
        self.gaz = gazetteer
        self.affixes = affixes
        self.t2i = {t: i for i, t in enumerate(tags)}
        self.scheme = scheme
        self._cache = {}

    def token(self, tok):
        r = self._cache.get(tok)
        if r is None:
            chars = [self.c2i.get(c, 1) for c in clip_chars(tok)]
            feats = [gazetteer_flag(tok, self.gaz)] + affix_flags(tok, self.affixes)
            r = (self.w2i.get(word_key(tok), 0), chars, casing(tok), feats)
            self._cache[tok] = r
        return r

    def encode(self, sent):
        toks = [self.token(t[0]) for t in sent]
        tags = [self.t2i[convert_tag(t[3], self.scheme)] for t in sent]
        return toks, tags


def batchify(items, word_dropout=0.0, gen=None):
    """items: [(toks, tags)] or [(toks, tags, allowed, lm)] with lm a [tokens, D] array of
    contextual character-LM states (or None) -> dict of tensors."""
    B = len(items)
    L = max(len(it[0]) for it in items)
    words = [[0] * L for _ in range(B)]
    case = [[0] * L for _ in range(B)]
    feats = [[[0.0] * 4] * L for _ in range(B)]
    tags = [[0] * L for _ in range(B)]
    uniq = [[0] * L for _ in range(B)]
    lengths = []
    seen = {}
    char_lists = []
    for b, (toks, tg, *_) in enumerate(items):
        wr, cr, fr, ur = words[b], case[b], feats[b], uniq[b]
        for i, (w, chars, c, f) in enumerate(toks):
            wr[i] = w
            cr[i] = c
            fr[i] = f
            key = tuple(chars)
            j = seen.get(key)
            if j is None:
                j = seen[key] = len(char_lists)
                char_lists.append(chars)
            ur[i] = j
        tags[b][:len(tg)] = tg
        lengths.append(len(toks))
    lengths = torch.tensor(lengths)
    mask = torch.arange(L).unsqueeze(0) < lengths.unsqueeze(1)
    words = torch.tensor(words)
    if word_dropout > 0:
        drop = (torch.rand(B, L, generator=gen) < word_dropout) & mask
        words = words.masked_fill(drop, 0)
    C = max(len(c) for c in char_lists)
    chars = torch.tensor([c + [0] * (C - len(c)) for c in char_lists])
    char_lens = torch.tensor([len(c) for c in char_lists])
    out = dict(words=words, uniq=torch.tensor(uniq), chars=chars, char_lens=char_lens,
               case=torch.tensor(case), feats=torch.tensor(feats), tags=torch.tensor(tags),
               mask=mask, lengths=lengths)
    if len(items[0]) > 3 and items[0][3] is not None:
        lm = torch.zeros(B, L, items[0][3].shape[1])
        for b, it in enumerate(items):
            lm[b, :len(it[0])] = torch.from_numpy(it[3].astype("float32"))
        out["lm"] = lm
    return out


def spans(tags):
    """Tag strings (any of the schemes) -> set of (start, end, label), token indices half-open."""
    out = set()
    cur = None
    for i, t in enumerate(tags):
        if t == "O":
            cur = None
            continue
        p, l = t[0], t[2:]
        if p in "WS":
            out.add((i, i + 1, l))
            cur = None
        elif p == "V":
            out.add((i, i + 1, l))
        elif p == "B":
            cur = (i, l)
        elif p in "MI":
            if cur is None or cur[1] != l:
                cur = None
        elif p == "E":
            if cur is not None and cur[1] == l:
                out.add((cur[0], i + 1, l))
            cur = None
    return out


def bio_spans(tags):
    out = set()
    cur = None
    for i, t in enumerate(tags + ["O"]):
        if t == "O" or t[0] == "B" or (t[0] == "I" and (cur is None or cur[1] != t[2:])):
            if cur is not None:
                out.add((cur[0], i, cur[1]))
            cur = (i, t[2:]) if t != "O" else None
    return out
