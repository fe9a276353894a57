#!/usr/bin/env bash
# K-fold cross-validation of the English tagger over BC5CDR train + devel (9,141 sentences in groups
# of 10, the fixed 5-fold assignment in training/cv/folds-en.tsv). For each fold: train one network on
# the other four folds plus every split of BC2GM and NCBI-disease (partial-annotation loss, early
# stopping on every 10th group of each corpus's training side, never on the fold scored), export,
# then tag the fold's sentences through the Swift engine with the model's document steps (each 10
# sentences one document) and score them (conlleval rules, Chemical and Disease). Each fold's figures
# land in training/cv/results/en-CONFIG/fold-K.json (kept in the repo), and those of the same
# networks without the model's document steps in en-CONFIG.nosteps/; a fold whose file exists is
# not run again; an interrupted fold resumes from its last epoch (training/work/cv/en/).
# Configurations are named sSEED (one network, the shipped members' recipe: BC5CDR + BC2GM +
# NCBI-disease); MEMBERS="s1 s2" scores the emission-averaged ensemble of configurations already run.
# Word vectors: those of `make train-en` when it has run, else the shipped model's.
# Environment: MEDTAG_CORPORA, CONFIG, MEMBERS, FOLDS, PARALLEL (default 2), NICE (default 10),
# EPOCHS (default 30), MAX_MINUTES (per fold, default 0: none), AGAINST, MARKDOWN=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
EN=$CORPORA/en
AFFIXES=$CORPORA/pharmaconer/affixes.tsv
MEMBERS=${MEMBERS:-}
if [ -n "$MEMBERS" ]; then CONFIG=$(echo $MEMBERS | tr ' ' '+'); fi
CONFIG=${CONFIG:-s1}
SEED=${CONFIG#s}
case "$SEED" in ''|*[!0-9]*) SEED=1 ;; esac
FOLDS=${FOLDS:-"0 1 2 3 4"}
PARALLEL=${PARALLEL:-2}
NICE=${NICE:-10}
EPOCHS=${EPOCHS:-30}
MAX_MINUTES=${MAX_MINUTES:-0}
RESULTS=training/cv/results/en-$CONFIG
WORK=training/work/cv/en
MEDTAG=.build/release/medtag
TRAIN_CORPORA="BC5CDR BC2GM NCBI-disease"

source training/cv-common.sh
cv_prepare training/work/en/emb Models/en-biomed-bilstm-crf
TOKENIZER="$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/MedtagText/Tokenizer.swift)"

run_fold() {  # run_fold K
  local k=$1 dir=$WORK/$CONFIG/fold-$k
  local run=$dir/run out=$RESULTS/fold-$k.json runs=()
  mkdir -p "$run"
  "$PY" training/cv.py en-split --corpora "$EN" --folds training/cv/folds-en.tsv --fold "$k" --out "$dir/data" > /dev/null
  cv_runs "$k" "$run" || return 1
  if [ ! -f "$run/result.json" ]; then
    (cd training && nice -n "$NICE" .venv/bin/python train.py --language en --corpora "../$dir/data/en" \
      --train-corpora $TRAIN_CORPORA --emb "../$EMB" --affixes "$AFFIXES" --seed "$SEED" --epochs "$EPOCHS" \
      --max-minutes "$MAX_MINUTES" --out "../$run" >> "../$run/stdout" 2>&1)
  fi
  rm -rf "$dir/model"
  (cd training && .venv/bin/python export.py --language en --runs "${runs[@]}" --emb "../$EMB" \
    --corpora "../$dir/data/en" --affixes "$AFFIXES" --no-dev-score --tokenizer-version "$TOKENIZER" \
    --corpus-note "cross-validation fold $k training part" --name "cv-en-$CONFIG-$k" --out "../$dir/model" > /dev/null)
  $MEDTAG tag-conll --model "$dir/model" "$dir/data/test.tsv" --document-sentences 10 --out "$dir/test.pred.tsv" > /dev/null
  $MEDTAG evaluate conll "$dir/data/test.tsv" "$dir/test.pred.tsv" --labels Chemical,Disease --format json > "$dir/scores.json"
  "$PY" training/cv.py record --scores "$dir/scores.json" --run "$run" --fold "$k" --out "$out"
  # The same network without the model's document steps: the steps' own CV row.
  $MEDTAG tag-conll --model "$dir/model" "$dir/data/test.tsv" --document-sentences 10 --postprocess none \
    --out "$dir/test.nosteps.tsv" > /dev/null
  $MEDTAG evaluate conll "$dir/data/test.tsv" "$dir/test.nosteps.tsv" --labels Chemical,Disease --format json > "$dir/scores-nosteps.json"
  "$PY" training/cv.py record --scores "$dir/scores-nosteps.json" --run "$run" --fold "$k" --out "$RESULTS.nosteps/fold-$k.json"
  echo "fold $k done: $out"
}

cv_run_folds en
