#!/usr/bin/env bash
# Trains the English Bi-LSTM-CRF end to end and writes Models/en-biomed-bilstm-crf:
#   fastText skip-gram on the BC5CDR + BC2GM training text (the corpora's own tokens); one
#   Bi-LSTM-CRF on both corpora with the partial-annotation CRF loss; export; devel F1 per label
#   through the Swift engine (medtag tag-conll + medtag evaluate conll, conlleval rules).
# Environment: MEDTAG_CORPORA (folder with en/ and pharmaconer/), SEEDS (default 1), MAX_MINUTES (0: none),
# THREADS (default 1), EPOCHS (default 40).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
EN=$CORPORA/en
AFFIXES=$CORPORA/pharmaconer/affixes.tsv
SEEDS=${SEEDS:-1}
EPOCHS=${EPOCHS:-40}
THREADS=${THREADS:-1}
MAX_MINUTES=${MAX_MINUTES:-0}
OUT=$(realpath -m "${OUT:-Models/en-biomed-bilstm-crf}")
WORK=$PWD/training/work/en
PY=${PY:-$PWD/training/.venv/bin/python}
MEDTAG=.build/release/medtag

if [ ! -x "$PY" ]; then
  python3 -m venv training/.venv
  training/.venv/bin/pip install -q -r training/requirements.txt
fi
mkdir -p $WORK/runs

echo "== fastText embeddings (English training text)"
[ -f $WORK/emb/vectors.npy ] || (cd training && $PY embeddings.py --language en --corpora "$EN" --out "$WORK/emb")

echo "== training seeds: $SEEDS"
runs=()
for seed in $SEEDS; do
  run=$WORK/runs/seed-$seed
  runs+=("$run")
  [ -f "$run/result.json" ] && continue
  mkdir -p "$run"
  (cd training && $PY train.py --language en --corpora "$EN" --emb "$WORK/emb" --affixes "$AFFIXES" \
    --seed "$seed" --epochs "$EPOCHS" --threads "$THREADS" --max-minutes "$MAX_MINUTES" --out "$run" >> "$run/stdout" 2>&1)
done

echo "== export"
(cd training && $PY export.py --language en --runs "${runs[@]}" --emb "$WORK/emb" --corpora "$EN" \
  --affixes "$AFFIXES" \
  --tokenizer-version "$(sed -n 's/.*static let version = "\(.*\)"/\1/p' ../Sources/MedtagText/Tokenizer.swift)" \
  --out "$OUT")

echo "== devel F1 per label through the Swift engine"
[ -x "$MEDTAG" ] || swift build -c release --product medtag
for corpus in BC5CDR BC2GM; do
  $MEDTAG tag-conll --model "$OUT" "$EN/$corpus-IOB/devel.tsv" --out $WORK/$corpus-devel.pred.tsv
  $MEDTAG evaluate conll "$EN/$corpus-IOB/devel.tsv" $WORK/$corpus-devel.pred.tsv | tee $WORK/$corpus-devel.scores.txt
done
