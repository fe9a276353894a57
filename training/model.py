"""Bi-LSTM-CRF after NeuroNER / PharmaCoNER Tagger: char Bi-LSTM + frozen fastText word vectors +
casing, gazetteer and affix features -> word Bi-LSTM -> linear emissions -> CRF."""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from features import CASING_CLASSES

NEG = -10000.0


def tag_set(labels, scheme):
    prefixes = {"bmewov": "BMEWV", "bioes": "BIES", "bio": "BI"}[scheme]
    return ["O"] + [f"{p}-{l}" for l in labels for p in prefixes]


def allowed(tags, scheme):
    """Boolean matrices: start[t], trans[from][to], end[t]."""
    n = len(tags)
    def split(t):
        return ("O", None) if t == "O" else (t[0], t[2:])
    start = torch.zeros(n, dtype=torch.bool)
    end = torch.zeros(n, dtype=torch.bool)
    trans = torch.zeros(n, n, dtype=torch.bool)
    if scheme == "bio":
        begin, inside, last, single = "B", "I", None, None
    for j, t in enumerate(tags):
        p, l = split(t)
        if scheme == "bmewov":
            start[j] = p in "OBW"
            end[j] = p in "OEW"
        elif scheme == "bioes":
            start[j] = p in "OBS"
            end[j] = p in "OES"
        else:
            start[j] = p in "OB"
            end[j] = True
        for k, u in enumerate(tags):
            q, m = split(u)
            if scheme == "bmewov":
                if p in "OEW":
                    ok = q in "OBW"
                elif p == "B" or p == "M":
                    ok = (q in "ME" and m == l) or q == "V"
                else:  # V: inside some outer entity whose label a first-order CRF cannot see
                    ok = q in "MEV"
            elif scheme == "bioes":
                if p in "OES":
                    ok = q in "OBS"
                else:
                    ok = q in "IE" and m == l
            else:
                ok = q in "OB" or (q == "I" and m == l and p in "BI")
            trans[j, k] = ok
    return start, trans, end


class CRF(nn.Module):
    def __init__(self, tags, scheme):
        super().__init__()
        n = len(tags)
        self.transitions = nn.Parameter(torch.zeros(n, n))  # [from][to]
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        s, t, e = allowed(tags, scheme)
        self.register_buffer("start_mask", (~s).float() * NEG)
        self.register_buffer("trans_mask", (~t).float() * NEG)
        self.register_buffer("end_mask", (~e).float() * NEG)

    def effective(self):
        return (self.start + self.start_mask, self.transitions + self.trans_mask,
                self.end + self.end_mask)

    def nll(self, em, tags, mask):
        """em [B,L,T], tags [B,L], mask [B,L] bool (prefix masks). Mean negative log-likelihood."""
        start, trans, end = self.effective()
        B, L, T = em.shape
        maskf = mask.float()
        # gold score
        score = start[tags[:, 0]] + em[:, 0].gather(1, tags[:, :1]).squeeze(1)
        for i in range(1, L):
            s = trans[tags[:, i - 1], tags[:, i]] + em[:, i].gather(1, tags[:, i:i + 1]).squeeze(1)
            score = score + s * maskf[:, i]
        lengths = mask.long().sum(1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        score = score + end[last]
        # partition
        alpha = start + em[:, 0]
        for i in range(1, L):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + em[:, i]
            alpha = torch.where(mask[:, i:i + 1], nxt, alpha)
        logz = torch.logsumexp(alpha + end, dim=1)
        return (logz - score).mean()

    @torch.no_grad()
    def viterbi(self, em, length):
        """em [L,T] for one sentence -> best tag indices."""
        start, trans, end = self.effective()
        em = em[:length]
        score = start + em[0]
        back = []
        for i in range(1, length):
            total = score.unsqueeze(1) + trans  # [from, to]
            best, idx = total.max(0)
            back.append(idx)
            score = best + em[i]
        score = score + end
        best = int(score.argmax())
        path = [best]
        for idx in reversed(back):
            best = int(idx[best])
            path.append(best)
        return path[::-1]


class BiLSTMCRF(nn.Module):
    def __init__(self, vectors, n_chars, tags, scheme, char_dim=25, char_hidden=25, case_dim=8,
                 hidden=100, dropout=0.5, lm_dim=0):
        super().__init__()
        self.config = dict(char_dim=char_dim, char_hidden=char_hidden, case_dim=case_dim,
                           hidden=hidden, dropout=dropout, scheme=scheme, tags=tags,
                           word_dim=vectors.shape[1], n_chars=n_chars, n_words=vectors.shape[0])
        if lm_dim:
            self.config["lm_dim"] = lm_dim
        self.lm_dim = lm_dim
        self.word = nn.Embedding.from_pretrained(torch.as_tensor(vectors), freeze=True)
        self.char = nn.Embedding(n_chars, char_dim, padding_idx=0)
        self.char_lstm = nn.LSTM(char_dim, char_hidden, batch_first=True, bidirectional=True)
        self.case = nn.Embedding(CASING_CLASSES, case_dim)
        # word vector, character Bi-LSTM, casing, 4 flags, contextual character-LM states (charlm.py)
        in_dim = vectors.shape[1] + 2 * char_hidden + case_dim + 4 + lm_dim
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(in_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, len(tags))
        self.crf = CRF(tags, scheme)
        self.aux_tags = None

    def add_aux(self, aux_tags):
        """A second output over the same Bi-LSTM states, trained on auxiliary labels (another
        corpus, another label set); it is not exported: only the main output runs at inference."""
        self.aux_tags = aux_tags
        self.aux_out = nn.Linear(self.out.in_features, len(aux_tags))
        self.aux_crf = CRF(aux_tags, "bio")

    def char_repr(self, chars, char_lens):
        """chars [U, C] padded char ids of unique words, char_lens [U] -> [U, 2*char_hidden]."""
        e = self.char(chars)
        packed = pack_padded_sequence(e, char_lens.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.char_lstm(packed)
        return torch.cat([h[0], h[1]], dim=1)

    def emissions(self, batch, aux=False):
        words, uniq_idx, chars, char_lens, case, feats, lengths = (
            batch["words"], batch["uniq"], batch["chars"], batch["char_lens"], batch["case"],
            batch["feats"], batch["lengths"])
        cr = self.char_repr(chars, char_lens)[uniq_idx]          # [B, L, 2ch]
        parts = [self.word(words), cr, self.case(case), feats]
        if self.lm_dim:
            parts.append(batch["lm"])
        x = torch.cat(parts, dim=2)
        x = self.drop(x)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        return (self.aux_out if aux else self.out)(self.drop(out))


def load_exported(module, tensors, prefix):
    """Fills `module` from exported numpy `tensors` named `prefix` + its state-dict keys (keys the
    export leaves out keep their values) and puts it in eval mode."""
    state = module.state_dict()
    for name in state:
        if prefix + name in tensors:
            state[name] = torch.from_numpy(tensors[prefix + name].copy())
    module.load_state_dict(state)
    module.eval()
    return module


def viterbi_np(em, start, trans, end):
    """numpy Viterbi: em [L,T], start [T], trans [T,T] (from, to), end [T] -> tag indices.
    Ties resolve to the lowest index, as in the Swift decoder."""
    import numpy as np
    L = em.shape[0]
    score = start + em[0]
    back = np.zeros((L, em.shape[1]), dtype=np.int64)
    for i in range(1, L):
        total = score[:, None] + trans
        back[i] = total.argmax(0)
        score = total.max(0) + em[i]
    score = score + end
    best = int(score.argmax())
    path = [best]
    for i in range(L - 1, 0, -1):
        best = int(back[i, best])
        path.append(best)
    return path[::-1]
