#!/usr/bin/env bash
# K-fold cross-validation of the Spanish tagger over every labelled document (PharmaCoNER train + dev,
# 750 documents, the fixed 5-fold assignment in training/cv/folds-es.tsv). For each fold: train on the
# other four folds (early stopping on every 10th of those documents, never on the fold scored),
# export, build a lexicon from the training documents only, then annotate and score the fold's
# documents through the Swift pipeline (strict NER, concept indexing with codes never seen in
# training counted as misses). Each fold's figures land in training/cv/results/es-CONFIG/fold-K.json
# (kept in the repo), and those of the same networks without the model's document steps in
# es-CONFIG.nosteps/ (AGAINST=CONFIG.nosteps compares them); a fold whose file exists is not run
# again. Two folds train side by side, one thread each; an interrupted fold resumes from its last
# epoch (training/work/cv/).
# Configurations are named KIND-sSEED: plain-s3 (word vectors tuned, the default model's recipe and
# the default CONFIG), aux-s3 (plus the CardioCCC auxiliary output, 16 epochs as shipped), ema-s3
# (aux-s3 scored and kept as the moving average of its weights, decay 0.999 a step);
# MEMBERS="aux-s3 aux-s4" scores the emission-averaged
# ensemble of configurations already run (no training) as CONFIG=aux-s3+aux-s4; distil-s3 is aux-s3
# plus the fold's teacher labels of unlabelled clinical text (training/distil.py; TEACHER, default
# aux-s3+aux-s4, a configuration already run, labels it for each fold).
# Environment: MEDTAG_CORPORA, CONFIG, MEMBERS, FLAGS (train.py options, commas for spaces, instead
# of the configuration's), FOLDS (which folds, default "0 1 2 3 4"), PARALLEL (default 2), NICE
# (default 10), AGAINST (a configuration to compare with, fold by fold), MARKDOWN=1 (tables as in
# the model card).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
PHARMA=$CORPORA/pharmaconer
AUX=$CORPORA/aux-es/cardioccc-farmaco.conll
MEMBERS=${MEMBERS:-}
if [ -n "$MEMBERS" ]; then CONFIG=$(echo $MEMBERS | tr ' ' '+'); fi
CONFIG=${CONFIG:-plain-s3}
case "$CONFIG" in  # the named configurations; FLAGS overrides
  plain-s*) DEFAULT_FLAGS="--tune-words" ;;
  aux-s*|distil-s*) DEFAULT_FLAGS="--tune-words,--aux,$AUX,--epochs,16" ;;
  ema-s*) DEFAULT_FLAGS="--tune-words,--aux,$AUX,--epochs,16,--ema,0.999" ;;
  *) DEFAULT_FLAGS="" ;;
esac
FLAGS=${FLAGS:-$DEFAULT_FLAGS}
SEED=${CONFIG##*-s}
case "$SEED" in ''|*[!0-9]*) SEED=1 ;; esac
FOLDS=${FOLDS:-"0 1 2 3 4"}
TEACHER=${TEACHER:-aux-s3+aux-s4}
PARALLEL=${PARALLEL:-2}
NICE=${NICE:-10}
EPOCHS=${EPOCHS:-30}
RESULTS=training/cv/results/es-$CONFIG
WORK=training/work/cv/es
MEDTAG=.build/release/medtag

source training/cv-common.sh
# Word vectors: those of `make train` when it has run, else the ones the shipped model carries.
cv_prepare training/work/data/emb Models/es-pharmaconer-bilstm-crf
if [[ $CONFIG == distil-* ]] && [ ! -f "$WORK/distil/raw/.done" ]; then
  rm -rf "$WORK/distil/raw"
  "$PY" training/distil.py prepare --corpus "$PHARMA" --raw "$CORPORA/raw-es" --out "$WORK/distil/raw"
  touch "$WORK/distil/raw/.done"
fi
TOKENIZER="$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/MedtagText/Tokenizer.swift)"

run_fold() {  # run_fold K
  local k=$1 dir=$WORK/$CONFIG/fold-$k
  local run=$dir/run out=$RESULTS/fold-$k.json runs=()
  mkdir -p "$run"
  "$PY" training/cv.py split --corpus "$PHARMA" --folds training/cv/folds-es.tsv --fold "$k" --out "$dir" > /dev/null
  $MEDTAG convert --scheme bmewov -o "$dir/train.conll" "$dir/train" > /dev/null
  $MEDTAG convert --scheme bmewov -o "$dir/test.conll" "$dir/test" > /dev/null
  cv_runs "$k" "$run" || return 1
  local silver=()
  if [[ $CONFIG == distil-* ]]; then  # the fold's teacher labels the unlabelled text
    [ -f "$WORK/$TEACHER/fold-$k/model/manifest.json" ] || { echo "fold $k: run CONFIG=$TEACHER first" >&2; return 1; }
    if [ ! -f "$dir/silver.conll" ]; then
      rm -rf "$dir/teacher"
      $MEDTAG annotate "$WORK/distil/raw" --model "$WORK/$TEACHER/fold-$k/model" --language es --formats conll \
        --scheme bmewov --workers 1 --quiet --out "$dir/teacher"
      "$PY" training/distil.py join --pred "$dir/teacher" --out "$dir/silver.conll" > /dev/null
      rm -rf "$dir/teacher"
    fi
    silver=(--silver "../$dir/silver.conll")
  fi
  if [ ! -f "$run/result.json" ]; then
    # --dev is only logged each epoch; the epoch kept is chosen on --holdout documents.
    (cd training && nice -n "$NICE" .venv/bin/python train.py --train "../$dir/train.conll" --dev "../$dir/test.conll" \
      --emb "../$EMB" --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" --scheme bmewov \
      --seed "$SEED" --epochs "$EPOCHS" --patience 5 --holdout 10 ${FLAGS//,/ } "${silver[@]}" --out "../$run" >> "../$run/stdout" 2>&1)
  fi
  rm -rf "$dir/model" "$dir/lexicon" "$dir/pred"
  (cd training && .venv/bin/python export.py --runs "${runs[@]}" --emb "../$EMB" --no-dev-score --dev "../$dir/test.conll" \
    --gazetteer "$PHARMA/gazetteer.txt" --affixes "$PHARMA/affixes.tsv" --tokenizer-version "$TOKENIZER" \
    --corpus-note "cross-validation fold $k training part" --name "cv-$CONFIG-$k" --out "../$dir/model" > /dev/null)
  $MEDTAG lexicon build --corpus "$dir/train" --gazetteer "$PHARMA/gazetteer.txt" \
    --abbreviations Models/lexicon/abbreviations.tsv --out "$dir/lexicon" > /dev/null
  MEDTAG_LEXICON="$dir/lexicon" $MEDTAG evaluate run --gold "$dir/test" --model "$dir/model" --workers 1 --quiet \
    --format json > "$dir/scores.json"
  "$PY" training/cv.py record --scores "$dir/scores.json" --run "$run" --fold "$k" --out "$out"
  # The same network without the model's document steps: the steps' own CV row.
  MEDTAG_LEXICON="$dir/lexicon" $MEDTAG evaluate run --gold "$dir/test" --model "$dir/model" --workers 1 --quiet \
    --postprocess none --format json > "$dir/scores-nosteps.json"
  "$PY" training/cv.py record --scores "$dir/scores-nosteps.json" --run "$run" --fold "$k" --out "$RESULTS.nosteps/fold-$k.json"
  echo "fold $k done: $out"
}

cv_run_folds es
