"""Token features shared by training and the Swift runtime (Sources/MedtagNeural/Features.swift).

Every rule here has a twin in Swift; change both or neither.
"""
import unicodedata

MAX_CHARS = 40          # longer tokens keep their first and last 20 code points
CASING_CLASSES = 9
AFFIX_KINDS = ("suffix", "prefix", "root")
AFFIX_MIN_REST = 3      # the token must be at least len(affix) + 3 code points long


def word_key(token: str) -> str:
    """Vocabulary key: lowercase, ASCII digits folded to 0."""
    return "".join("0" if "0" <= c <= "9" else c for c in token.lower())


def clip_chars(token: str) -> str:
    if len(token) <= MAX_CHARS:
        return token
    half = MAX_CHARS // 2
    return token[:half] + token[-half:]


def casing(token: str) -> int:
    """0 digits, 1 lower, 2 upper, 3 title, 4 mixed letters, 5 letters+digits, 6 letters+other,
    7 digits+other, 8 no letters or digits."""
    cats = [unicodedata.category(c) for c in token]
    letters = [c for c in cats if c[0] == "L"]
    digits = sum(1 for c in cats if c == "Nd")
    others = len(cats) - len(letters) - digits
    if not letters:
        if digits and not others:
            return 0
        if digits:
            return 7
        return 8
    if digits:
        return 5
    if others:
        return 6
    uppers = sum(1 for c in letters if c == "Lu")
    if uppers == len(letters) and len(letters) >= 2:
        return 2
    if uppers == 0:
        return 1
    if cats[0] == "Lu" and uppers == 1:
        return 3
    return 4


def load_gazetteer(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        w = line.strip()
        if w:
            out.add(w.lower())
    return out


def load_affixes(path):
    """Returns [(kind, form)] from the shared affixes.tsv (Spanish and English forms, lowercased)."""
    out = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3:
                continue
            kind = cols[0].strip().lower()
            if kind not in AFFIX_KINDS:
                continue
            for col in (cols[1], cols[2]):
                for form in col.split(","):
                    form = form.strip().lower()
                    if form and (kind, form) not in seen:
                        seen.add((kind, form))
                        out.append((kind, form))
    return out


def affix_flags(token: str, affixes) -> list:
    t = token.lower()
    flags = [0.0, 0.0, 0.0]
    for kind, form in affixes:
        if len(t) < len(form) + AFFIX_MIN_REST:
            continue
        if kind == "suffix" and t.endswith(form):
            flags[0] = 1.0
        elif kind == "prefix" and t.startswith(form):
            flags[1] = 1.0
        elif kind == "root" and form in t:
            flags[2] = 1.0
    return flags


def gazetteer_flag(token: str, gazetteer) -> float:
    return 1.0 if token.lower() in gazetteer else 0.0
