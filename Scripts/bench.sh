#!/usr/bin/env bash
# Swift engine vs PyTorch on the shipped Spanish Bi-LSTM-CRF models, PharmaCoNER dev texts → .build/bench/NAME.json
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
DEV=${DEV:-$CORPORA/pharmaconer/dev}
# The Spanish neural models, each against the same model in PyTorch.
MODELS=${MODELS:-${MODEL:-Models/es-pharmaconer-bilstm-crf Models/es-pharmaconer-ensemble Models/es-pharmaconer-contextual}}
source training/venv.sh
training_venv
swift build -c release --product medtag
mkdir -p .build/bench
.build/release/medtag convert --scheme bmewov -o .build/bench/dev.conll "$DEV" > /dev/null
for MODEL in $MODELS; do
  [ -f "$MODEL/manifest.json" ] || continue
  name=$(basename "$MODEL")
  echo "== $name"
  .build/release/medtag bench --model "$MODEL" "$DEV" > .build/bench/swift-$name.json
  (cd training && .venv/bin/python bench_torch.py --model "../$MODEL" --conll ../.build/bench/dev.conll \
    --swift ../.build/bench/swift-$name.json --out ../.build/bench/$name.json)
  # End to end: medtag annotate on the same texts (read, tokenize, tag, consistency, normalize, write
  # every format), as a user runs it.
  rm -rf .build/bench/annotate
  .build/release/medtag annotate "$DEV" --model "$MODEL" -o .build/bench/annotate 2>&1 | tail -n 1 |
    sed -n 's/.*: \([0-9]*\) tokens, .* in \([0-9.]*\) s.*/\1 \2/p' |
    awk '{ printf "end to end (medtag annotate, all formats): %d tokens in %.2f s = %.0f tokens/s\n", $1, $2, $1 / $2 }'
  echo
done
# SNOMED-CT normalization: lookups per second through the whole cascade on the shipped lexicon.
.build/release/medtag lexicon bench --mentions "$DEV"
