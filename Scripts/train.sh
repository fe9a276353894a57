#!/usr/bin/env bash
# Trains the Spanish Bi-LSTM-CRF end to end and writes Models/es-pharmaconer-bilstm-crf.
#   data: medtag convert (BMEWO-V CoNLL) + medtag tokenize (fastText corpus: all of raw-es), so
#   training sees exactly the runtime's tokens; fastText skip-gram; RUNS trained two at a time
#   (1 thread each), early stopping on every 10th training document (dev is never used to choose),
#   CardioCCC drug mentions as an auxiliary output; export of the emission-averaged ensemble with
#   the document-consistency step; strict dev F1 measured through the Swift pipeline.
# Interrupted runs resume from their last epoch (training/work/runs/NAME/last.pt).
# Environment: MEDTAG_CORPORA, RUNS, EPOCHS, OUT, TRAIN_ON (train, or train+dev for a final model).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
PHARMA=$CORPORA/pharmaconer
RAW=$CORPORA/raw-es
AUX=$CORPORA/aux-es/cardioccc-farmaco.conll
# Ensemble members: NAME:SEED:FLAGS (flags joined with commas).
RUNS=${RUNS:-"aux-3:3:--tune-words,--aux,$AUX aux-4:4:--tune-words,--aux,$AUX aux-5:5:--tune-words,--aux,$AUX"}
TRAIN_ON=${TRAIN_ON:-train}
SCHEME=${SCHEME:-bmewov}
EPOCHS=${EPOCHS:-30}
OUT=$(realpath -m "${OUT:-Models/es-pharmaconer-bilstm-crf}")
WORK=training/work
PY=training/.venv/bin/python
MEDTAG=.build/release/medtag

if [ ! -x "$PY" ]; then
  python3 -m venv training/.venv
  training/.venv/bin/pip install -q -r training/requirements.txt
fi
[ -x "$MEDTAG" ] || swift build -c release --product medtag
mkdir -p $WORK/data $WORK/runs

echo "== data (medtag convert / tokenize)"
$MEDTAG convert --scheme bmewov -o $WORK/data/train.conll "$PHARMA/train"
$MEDTAG convert --scheme bmewov -o $WORK/data/dev.conll "$PHARMA/dev"
TRAIN_CONLL=work/data/train.conll
NOTE="PharmaCoNER train (500 documents)"
if [ "$TRAIN_ON" = "train+dev" ]; then
  cat $WORK/data/train.conll $WORK/data/dev.conll > $WORK/data/train+dev.conll
  TRAIN_CONLL=work/data/train+dev.conll
  NOTE="PharmaCoNER train and dev (750 documents)"
fi
$MEDTAG tokenize "$RAW"/*.txt "$PHARMA"/train/*.txt "$PHARMA"/dev/*.txt > $WORK/data/corpus.tok

echo "== fastText embeddings"
[ -f $WORK/data/emb/vectors.npy ] || (cd training && .venv/bin/python embeddings.py \
  --corpus work/data/corpus.tok --conll work/data/train.conll work/data/dev.conll \
  --gazetteer "$PHARMA/gazetteer.txt" --out work/data/emb)

echo "== training: $RUNS ($SCHEME)"
runs=()
pids=()
for spec in $RUNS; do
  IFS=: read -r name seed flags <<< "$spec"
  run=$WORK/runs/$name
  runs+=("$run")
  if [ ! -f "$run/result.json" ]; then
    mkdir -p "$run"
    (cd training && .venv/bin/python train.py --train $TRAIN_CONLL --dev work/data/dev.conll \
      --emb work/data/emb --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" \
      --scheme $SCHEME --seed "$seed" --epochs $EPOCHS --patience 5 --holdout 10 ${flags//,/ } \
      --out "../$run" >> "../$run/stdout" 2>&1) &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

echo "== export"
(cd training && .venv/bin/python export.py --runs "${runs[@]/#/../}" --emb work/data/emb \
  --dev work/data/dev.conll --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" \
  --tokenizer-version "$(sed -n 's/.*static let version = "\(.*\)"/\1/p' ../Sources/MedtagText/Tokenizer.swift)" \
  --corpus-note "$NOTE" --out "$OUT")

echo "== strict dev F1 through the Swift pipeline"
swift build -c release --product medtag
rm -rf $WORK/dev-pred
$MEDTAG annotate "$PHARMA/dev" -o $WORK/dev-pred --formats brat --model "$OUT"
$PY training/score.py --gold "$PHARMA/dev" --pred $WORK/dev-pred --manifest "$OUT/manifest.json"
$MEDTAG evaluate ner "$PHARMA/dev" $WORK/dev-pred
