#!/usr/bin/env bash
# Trains the Spanish Bi-LSTM-CRF end to end and writes Models/es-pharmaconer-bilstm-crf (DEFAULT_RUN,
# the default model) and Models/es-pharmaconer-ensemble (RUNS, emissions averaged), and, with STUDENT
# or LM_RUNS, Models/es-pharmaconer-distilled or Models/es-pharmaconer-contextual.
#   data: medtag convert (BMEWO-V CoNLL) + medtag tokenize (fastText corpus: all of raw-es), so
#   training sees exactly the runtime's tokens; fastText skip-gram; RUNS trained two at a time
#   (1 thread each), CardioCCC drug mentions as an auxiliary output; export with the
#   document-consistency step.
#   STUDENT (empty by default): distillation. The ensemble labels unlabelled Spanish clinical text
#   (raw-es's case reports, less every document sharing text with a labelled one:
#   training/distil.py), and one network learns from the gold documents and those labels (as many
#   silver tokens as gold ones each epoch), e.g. STUDENT="distil-3:3:--tune-words,--aux,$AUX".
#   Cross-validated, it scored below one network trained on gold alone (see the model card), so it
#   does not ship.
#   LM_RUNS (empty by default) trains networks that also read contextual character language models
#   (training/charlm.py: a forward and a backward character LSTM trained on raw-es and the
#   PharmaCoNER train texts) and exports them as es-pharmaconer-contextual; see the model card for
#   what they measured.
# SPLIT=all (the default, what ships): every labelled document (PharmaCoNER train + dev, 750), no
#   document held out, each network trained for a fixed number of epochs (DEFAULT_EPOCHS for
#   DEFAULT_RUN, FINAL_EPOCHS for RUNS, STUDENT_EPOCHS for a student: the median best epoch over the
#   folds of its configuration in `make cv`) and its last
#   epoch kept; dev is then part of training and is not scored.
# SPLIT=train: train only, early stopping on every 10th training document, EPOCHS at most; the
#   models' dev figure is printed at the end and `medtag evaluate run --gold DEV` reproduces it.
# Interrupted runs resume from their last epoch (training/work/runs[-all]/NAME/last.pt).
# Environment: MEDTAG_CORPORA, SPLIT, DEFAULT_RUN, RUNS (empty: no ensemble), STUDENT, LM_RUNS, EPOCHS,
# DEFAULT_EPOCHS, FINAL_EPOCHS, STUDENT_EPOCHS,
# OUT, OUT_ENSEMBLE, OUT_STUDENT, OUT_CONTEXTUAL, LM_EPOCHS.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
PHARMA=$CORPORA/pharmaconer
RAW=$CORPORA/raw-es
AUX=$CORPORA/aux-es/cardioccc-farmaco.conll
# Networks: NAME:SEED:FLAGS (flags joined with commas). The default model is DEFAULT_RUN: one network,
# word vectors tuned (`plain-s3` in `make cv`; the auxiliary CardioCCC output was not shown to help
# one network). The ensemble is RUNS: two networks with the auxiliary output (`aux-s3+aux-s4`).
DEFAULT_RUN=${DEFAULT_RUN:-"plain-3:3:--tune-words"}
RUNS=${RUNS-"aux-3:3:--tune-words,--aux,$AUX aux-4:4:--tune-words,--aux,$AUX"}
STUDENT=${STUDENT:-}
# Networks that read the character language models' states too, e.g.
# LM_RUNS="lm-aux-3:3:--tune-words,--aux,$AUX,--charlm,work/charlm lm-aux-4:4:..."
LM=work/charlm
LM_RUNS=${LM_RUNS:-}
LM_EPOCHS=${LM_EPOCHS:-1}
SPLIT=${SPLIT:-all}
SCHEME=${SCHEME:-bmewov}
EPOCHS=${EPOCHS:-16}
DEFAULT_EPOCHS=${DEFAULT_EPOCHS:-12}
FINAL_EPOCHS=${FINAL_EPOCHS:-13}
STUDENT_EPOCHS=${STUDENT_EPOCHS:-8}
OUT=$(realpath -m "${OUT:-Models/es-pharmaconer-bilstm-crf}")
OUT_ENSEMBLE=$(realpath -m "${OUT_ENSEMBLE:-Models/es-pharmaconer-ensemble}")
OUT_STUDENT=$(realpath -m "${OUT_STUDENT:-Models/es-pharmaconer-distilled}")
OUT_CONTEXTUAL=$(realpath -m "${OUT_CONTEXTUAL:-Models/es-pharmaconer-contextual}")
WORK=training/work
MEDTAG=.build/release/medtag

source training/venv.sh
training_venv
[ -x "$MEDTAG" ] || swift build -c release --product medtag
mkdir -p $WORK/data $WORK/runs

echo "== data (medtag convert / tokenize)"
$MEDTAG convert --scheme bmewov -o $WORK/data/train.conll "$PHARMA/train"
$MEDTAG convert --scheme bmewov -o $WORK/data/dev.conll "$PHARMA/dev"
TRAIN_CONLL=work/data/train.conll
NOTE="PharmaCoNER train (500 documents)"
RUNS_DIR=$WORK/runs
SCHEDULE="--epochs $EPOCHS --patience 5 --holdout 10"
STUDENT_SCHEDULE=$SCHEDULE
DEFAULT_SCHEDULE=$SCHEDULE
DEFAULT_NOTE=$NOTE
if [ "$SPLIT" = "all" ]; then
  cat $WORK/data/train.conll $WORK/data/dev.conll > $WORK/data/train+dev.conll
  TRAIN_CONLL=work/data/train+dev.conll
  NOTE="PharmaCoNER train and dev (750 documents), $FINAL_EPOCHS epochs"
  RUNS_DIR=$WORK/runs-all
  SCHEDULE="--epochs $FINAL_EPOCHS --keep-last"
  STUDENT_SCHEDULE="--epochs $STUDENT_EPOCHS --keep-last"
  DEFAULT_SCHEDULE="--epochs $DEFAULT_EPOCHS --keep-last"
  DEFAULT_NOTE="PharmaCoNER train and dev (750 documents), $DEFAULT_EPOCHS epochs"
elif [ "$SPLIT" != "train" ]; then
  echo "SPLIT is all or train, not '$SPLIT'" >&2; exit 2
fi
$MEDTAG tokenize "$RAW"/*.txt "$PHARMA"/train/*.txt "$PHARMA"/dev/*.txt > $WORK/data/corpus.tok

echo "== fastText embeddings"
[ -f $WORK/data/emb/vectors.npy ] || (cd training && .venv/bin/python embeddings.py \
  --corpus work/data/corpus.tok --conll work/data/train.conll work/data/dev.conll \
  --gazetteer "$PHARMA/gazetteer.txt" --out work/data/emb)

if [ -n "$LM_RUNS" ] && { [ ! -f $WORK/charlm/forward/done ] || [ ! -f $WORK/charlm/backward/done ]; }; then
  echo "== character language models (forward and backward, side by side)"
  mkdir -p $WORK/charlm
  # The PharmaCoNER train texts besides raw-es (whose SPACCC part holds the train and dev texts
  # already, as unlabelled text; never the test split).
  $MEDTAG tokenize "$RAW"/*.txt "$PHARMA"/train/*.txt > $WORK/charlm/corpus.tok
  (cd training && .venv/bin/python charlm.py vocab --corpus $LM/corpus.tok --out $LM/chars.json)
  for direction in forward backward; do
    [ -f $WORK/charlm/$direction/done ] && continue
    (cd training && .venv/bin/python charlm.py train --corpus $LM/corpus.tok --vocab $LM/chars.json \
      --direction $direction --epochs "$LM_EPOCHS" --out $LM/$direction > $LM/$direction.out 2>&1 \
      && touch $LM/$direction/done) &
  done
  wait
fi

train_runs() {  # train_runs SPEC...: NAME:SEED:FLAGS (SCHEDULE, EXTRA: more flags), two at a time
  runs=()
  pids=()
  for spec in "$@"; do
    IFS=: read -r name seed flags <<< "$spec"
    run=$RUNS_DIR/$name
    runs+=("$run")
    if [ ! -f "$run/result.json" ]; then
      mkdir -p "$run"
      (cd training && .venv/bin/python train.py --train $TRAIN_CONLL --dev work/data/dev.conll \
        --emb work/data/emb --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" \
        --scheme $SCHEME --seed "$seed" $SCHEDULE ${flags//,/ } ${EXTRA:-} \
        --out "../$run" >> "../$run/stdout" 2>&1) &
      pids+=($!)
      if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
}
echo "== training: $DEFAULT_RUN $RUNS ($SCHEME)"
SCHEDULE=$DEFAULT_SCHEDULE train_runs $DEFAULT_RUN
default_run=$PWD/${runs[0]}
ensemble_runs=()
if [ -n "$RUNS" ]; then
  train_runs $RUNS
  ensemble_runs=("${runs[@]/#/$PWD/}")
fi
if [ -n "$LM_RUNS" ]; then
  echo "== training: $LM_RUNS ($SCHEME)"
  train_runs $LM_RUNS
  lm_runs=("${runs[@]}")
fi

echo "== export"
TOKENIZER="$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/MedtagText/Tokenizer.swift)"
DEV_SCORE=""
[ "$SPLIT" = "all" ] && DEV_SCORE="--no-dev-score"  # dev was trained on
export_model() {  # export_model OUT NAME FLAGS RUN...
  local out=$1 name=$2 flags="$3 $DEV_SCORE"; shift 3
  (cd training && .venv/bin/python export.py --runs "$@" $flags --emb work/data/emb \
    --dev work/data/dev.conll --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" \
    --tokenizer-version "$TOKENIZER" --corpus-note "$NOTE" --name "$name" --out "$out")
}
NOTE=$DEFAULT_NOTE export_model "$OUT" es-pharmaconer-bilstm-crf "" "$default_run"
models=("$OUT")
if [ ${#ensemble_runs[@]} -gt 0 ]; then
  export_model "$OUT_ENSEMBLE" es-pharmaconer-ensemble "" "${ensemble_runs[@]}"
  models+=("$OUT_ENSEMBLE")
fi

if [ -n "$STUDENT" ]; then
  echo "== distillation: the ensemble labels unlabelled clinical text; $STUDENT learns from it"
  if [ ! -f $WORK/distil/raw/.done ]; then
    rm -rf $WORK/distil/raw
    $PY training/distil.py prepare --corpus "$PHARMA" --raw "$RAW" --out $WORK/distil/raw
    touch $WORK/distil/raw/.done
  fi
  SILVER=$WORK/distil/silver-$SPLIT.conll
  if [ ! -f "$SILVER" ]; then
    rm -rf $WORK/distil/teacher
    $MEDTAG annotate $WORK/distil/raw --model "$OUT_ENSEMBLE" --language es --formats conll --scheme bmewov \
      --workers 2 --quiet --out $WORK/distil/teacher
    $PY training/distil.py join --pred $WORK/distil/teacher --out "$SILVER"
    rm -rf $WORK/distil/teacher
  fi
  SCHEDULE=$STUDENT_SCHEDULE EXTRA="--silver ../$SILVER" train_runs $STUDENT
  export_model "$OUT_STUDENT" es-pharmaconer-distilled "" "${runs[@]/#/$PWD/}"
  models+=("$OUT_STUDENT")
fi
if [ -n "$LM_RUNS" ]; then
  export_model "$OUT_CONTEXTUAL" es-pharmaconer-contextual "--charlm $LM" "${lm_runs[@]/#/$PWD/}"
  models+=("$OUT_CONTEXTUAL")
fi

if [ "$SPLIT" = "all" ]; then
  echo "== trained on dev too: no dev figure; make cv gives the cross-validated one"
  exit 0
fi
echo "== strict dev F1 through the Swift pipeline"
swift build -c release --product medtag
for model in "${models[@]}"; do
  rm -rf $WORK/dev-pred
  $MEDTAG annotate "$PHARMA/dev" -o $WORK/dev-pred --formats brat --model "$model"
  $PY training/score.py --gold "$PHARMA/dev" --pred $WORK/dev-pred --manifest "$model/manifest.json"
  $MEDTAG evaluate ner "$PHARMA/dev" $WORK/dev-pred
done
