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
# SNOMED-CT normalization: lookups per second through the whole cascade on the shipped lexicon.
echo
.build/release/medtag lexicon bench --mentions "$DEV"
