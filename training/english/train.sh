#!/usr/bin/env bash
# Trains the English Bi-LSTM-CRF end to end and writes Models/en-biomed-bilstm-crf:
#   fastText skip-gram on the PubMed raw text + the corpora's labelled text (their own tokens);
#   the ensemble members, each one Bi-LSTM-CRF trained with the partial-annotation CRF loss on its
#   corpora; export (members averaged at the emission level).
# SPLIT=all (the default, what ships): every labelled sentence (BC5CDR train + devel, BC2GM train +
#   devel, NCBI-disease train + devel + test), each network trained for FINAL_EPOCHS (the median
#   best epoch over the folds of training/english/cv.sh) and its last epoch kept; every 10th group
#   of 10 sentences is also logged as "devel" each epoch, but it is trained on and chooses nothing.
# SPLIT=train: the train splits only, early stopping on the devel splits (EPOCHS at most); devel F1
#   per label is then printed through the Swift engine (medtag tag-conll + medtag evaluate conll,
#   conlleval rules), for BC5CDR also with the model's document steps.
# Environment: MEDTAG_CORPORA (folder with en/, raw-en/ and pharmaconer/), SPLIT,
#   MEMBERS (space-separated SEED:CORPUS+CORPUS..., default below), JOBS (members trained at once,
#   default 2), THREADS (per member, default 1), EPOCHS (default 40), FINAL_EPOCHS (default 17),
#   MAX_MINUTES (per member, 0: none), OUT (model folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
EN=$CORPORA/en
RAW=$CORPORA/raw-en/pubmed-sentences.txt
AFFIXES=$CORPORA/pharmaconer/affixes.tsv
# The shipped networks; the earlier four-network model added "2:BC5CDR+BC2GM 2:BC5CDR+BC2GM+NCBI-disease".
MEMBERS=${MEMBERS:-"1:BC5CDR+BC2GM 1:BC5CDR+BC2GM+NCBI-disease"}
JOBS=${JOBS:-2}
EPOCHS=${EPOCHS:-40}
THREADS=${THREADS:-1}
MAX_MINUTES=${MAX_MINUTES:-0}
SPLIT=${SPLIT:-all}
FINAL_EPOCHS=${FINAL_EPOCHS:-17}
OUT=$(realpath -m "${OUT:-Models/en-biomed-bilstm-crf}")
WORK=$PWD/training/work/en
MEDTAG=.build/release/medtag

source training/venv.sh
training_venv --keep-py
case "$SPLIT" in
  all)
    # One folder of corpora with every labelled sentence in train.tsv (devel.tsv: every 10th group, logged only).
    WORK=$WORK/all
    [ -f $WORK/data/en/BC5CDR-IOB/train.tsv ] || "$PY" training/cv.py en-split --corpora "$EN" \
      --folds training/cv/folds-en.tsv --fold -1 --holdout 10 --holdout-trains --out $WORK/data
    EN=$WORK/data/en
    SCHEDULE="--epochs $FINAL_EPOCHS --keep-last"
    EXPORT_FLAGS="--no-dev-score"  # its "devel" was trained on
    NOTE="every labelled sentence: BC5CDR train + devel (Chemical, Disease), BC2GM train + devel (GENE), NCBI-disease train + devel + test (Disease); $FINAL_EPOCHS epochs, the last kept"
    ;;
  train)
    SCHEDULE="--epochs $EPOCHS"
    EXPORT_FLAGS=""
    NOTE="BC5CDR train (Chemical, Disease), BC2GM train (GENE), NCBI-disease train (Disease); early stopping on the BC5CDR and BC2GM devel splits"
    ;;
  *) echo "SPLIT must be all or train, not $SPLIT" >&2; exit 2 ;;
esac
mkdir -p $WORK/runs

echo "== fastText embeddings (PubMed raw text + the corpora's training text)"
# 5 passes over about 4 million tokens (3.3M raw + 0.6M training text); raw words seen twice or more kept.
[ -f $WORK/emb/vectors.npy ] || (cd training && $PY embeddings.py --language en --corpora "$EN" --raw "$RAW" \
  --epoch 5 --min-count 2 --out "$WORK/emb")

echo "== training members: $MEMBERS ($JOBS at a time)"
runs=()
for member in $MEMBERS; do
  seed=${member%%:*} corpora=${member#*:}
  run=$WORK/runs/seed-$seed-$corpora
  runs+=("$run")
  [ -f "$run/result.json" ] && continue
  mkdir -p "$run"
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  (cd training && exec $PY train.py --language en --corpora "$EN" --train-corpora ${corpora//+/ } \
    --emb "$WORK/emb" --affixes "$AFFIXES" --seed "$seed" $SCHEDULE --threads "$THREADS" \
    --max-minutes "$MAX_MINUTES" --out "$run" >> "$run/stdout" 2>&1) &
done
wait
for run in "${runs[@]}"; do
  [ -f "$run/result.json" ] || { echo "training did not finish: $run (see $run/stdout)" >&2; exit 1; }
done

echo "== export"
(cd training && $PY export.py --language en --runs "${runs[@]}" --emb "$WORK/emb" --corpora "$EN" \
  --affixes "$AFFIXES" $EXPORT_FLAGS \
  --corpus-note "members (seed:corpora) $MEMBERS; $NOTE; the corpora's own tokens; partial-annotation CRF loss" \
  --tokenizer-version "$(sed -n 's/.*static let version = "\(.*\)"/\1/p' ../Sources/MedtagText/Tokenizer.swift)" \
  --out "$OUT")

[ "$SPLIT" = train ] || { echo "model written to $OUT (devel was trained on: see training/english/cv.sh for its figures)"; exit 0; }
EN=$CORPORA/en
echo "== devel F1 per label through the Swift engine"
[ -x "$MEDTAG" ] || swift build -c release --product medtag
$MEDTAG tag-conll --model "$OUT" "$EN/BC5CDR-IOB/devel.tsv" --out $WORK/BC5CDR-devel.pred.tsv
$MEDTAG evaluate conll "$EN/BC5CDR-IOB/devel.tsv" $WORK/BC5CDR-devel.pred.tsv --labels Chemical,Disease \
  | tee $WORK/BC5CDR-devel.scores.txt
# With the model's document steps; the file has no abstract boundaries, so each 10 sentences are one document.
$MEDTAG tag-conll --model "$OUT" "$EN/BC5CDR-IOB/devel.tsv" --document-sentences 10 --out $WORK/BC5CDR-devel.documents.pred.tsv
$MEDTAG evaluate conll "$EN/BC5CDR-IOB/devel.tsv" $WORK/BC5CDR-devel.documents.pred.tsv --labels Chemical,Disease \
  | tee $WORK/BC5CDR-devel.documents.scores.txt
$MEDTAG tag-conll --model "$OUT" "$EN/BC2GM-IOB/devel.tsv" --out $WORK/BC2GM-devel.pred.tsv
$MEDTAG evaluate conll "$EN/BC2GM-IOB/devel.tsv" $WORK/BC2GM-devel.pred.tsv --labels GENE \
  | tee $WORK/BC2GM-devel.scores.txt
