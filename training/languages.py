"""Per-language configuration of the training pipeline: which corpora, which labels and scheme,
which gazetteer, which sentences go into the parity reference. One exporter and one set of
network/feature code serve every language; only what differs lives here."""
import os

from conll import read_conll, sentences
from features import load_gazetteer


class Spanish:
    """PharmaCoNER: medtag-tokenized CoNLL (train, dev), BMEWO-V, the PharmaCoNER gazetteer."""
    language = "es"
    name = "es-pharmaconer-bilstm-crf"
    corpus_note = "PharmaCoNER train (500 documents)"
    score_how = "PyTorch, exact token span and label on medtag-tokenized dev sentences"
    extra_reference = [
        ["Se", "administró", "dexametasona-fosfato" * 3, "y", "ÑÓÇ", "0,5", "mg", "."],  # clipped, unknown chars
        ["Omeprazol"],
    ]

    def __init__(self, args):
        self.dev = sentences(read_conll(args.dev))
        self.gazetteer = sorted(load_gazetteer(args.gazetteer))

    def reference_sentences(self):
        picks = []
        for s in self.dev:
            toks = [t[0] for t in s]
            if any(t[3] != "O" for t in s) and 5 <= len(toks) <= 40 and len(picks) < 6:
                picks.append(toks)
        return picks + self.extra_reference

    def feature_tokens(self, picks):
        """Tokens whose features the parity test checks: every distinct dev token."""
        return sorted({t[0] for s in self.dev for t in s})

    def scored_sentences(self):
        """(tokens, gold tag strings) of the dev sentences the exporter scores, or None."""
        return [([t[0] for t in s], [t[3] for t in s]) for s in self.dev]


class English:
    """BC5CDR + BC2GM: the corpora's own tokens, BIOES, no gazetteer."""
    language = "en"
    name = "en-biomed-bilstm-crf"
    corpus_note = ("BC5CDR train (Chemical, Disease) + BC2GM train (GENE), the corpora's own tokens; "
                   "partial-annotation CRF loss; early stopping on the devel splits")
    score_how = ("PyTorch, exact token span and label on the devel splits, each corpus scored on the "
                 "labels it annotates")
    extra_reference = [
        ["Aspirin", "and", "interleukin-6", "(", "IL-6", ")", "reduced", "hypertension", "."],
        ["Tamoxifen"],
    ]

    def __init__(self, args):
        from english.corpora import load, SCORED
        self.corpora = SCORED
        self.devel = load(args.corpora, "devel")
        self.gazetteer = []

    def reference_sentences(self):
        picks = []
        for name in self.corpora:
            n = 0
            for s in self.devel[name][1]:
                toks = [t for t, _ in s]
                if any(g != "O" for _, g in s) and 5 <= len(toks) <= 40 and n < 4:
                    picks.append(toks)
                    n += 1
        return picks + self.extra_reference

    def feature_tokens(self, picks):
        return sorted({t for s in picks for t in s})

    def scored_sentences(self):
        """The runs record their own per-corpus devel scores (partial labels): none here."""
        return None


LANGUAGES = {"es": Spanish, "en": English}


def add_arguments(ap):
    """Corpus arguments of every language (each language reads the ones it needs)."""
    ap.add_argument("--language", choices=sorted(LANGUAGES), default="es")
    ap.add_argument("--dev", help="es: dev CoNLL from medtag convert")
    ap.add_argument("--gazetteer", help="es: gazetteer, one name a line")
    ap.add_argument("--corpora", help="en: folder with BC5CDR-IOB/ and BC2GM-IOB/")


def configure(args):
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in __import__("sys").path:
        __import__("sys").path.insert(0, here)
    return LANGUAGES[args.language](args)
