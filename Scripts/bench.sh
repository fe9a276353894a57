#!/usr/bin/env bash
# Swift engine vs PyTorch on the shipped Bi-LSTM-CRF, PharmaCoNER dev texts → .build/bench.json
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
DEV=${DEV:-$CORPORA/pharmaconer/dev}
MODEL=${MODEL:-Models/es-pharmaconer-bilstm-crf}
PY=training/.venv/bin/python
if ! "$PY" -c "import torch, safetensors, numpy" 2>/dev/null; then
  python3 -m venv training/.venv
  training/.venv/bin/pip install -q -r training/requirements.txt
fi
swift build -c release --product medtag
mkdir -p .build/bench
.build/release/medtag convert --scheme bmewov -o .build/bench/dev.conll "$DEV" > /dev/null
.build/release/medtag bench --model "$MODEL" "$DEV" > .build/bench/swift.json
(cd training && .venv/bin/python bench_torch.py --model "../$MODEL" --conll ../.build/bench/dev.conll \
  --swift ../.build/bench/swift.json --out ../.build/bench.json)
# End to end: medtag annotate on the same texts (read, tokenize, tag, consistency, normalize, write
# every format), as a user runs it.
echo
rm -rf .build/bench/annotate
.build/release/medtag annotate "$DEV" --model "$MODEL" -o .build/bench/annotate 2>&1 | tail -n 1 |
  sed -n 's/.*: \([0-9]*\) tokens, .* in \([0-9.]*\) s.*/\1 \2/p' |
  awk '{ printf "end to end (medtag annotate, all formats): %d tokens in %.2f s = %.0f tokens/s\n", $1, $2, $1 / $2 }'
# SNOMED-CT normalization: lookups per second through the whole cascade on the shipped lexicon.
echo
.build/release/medtag lexicon bench --mentions "$DEV"
