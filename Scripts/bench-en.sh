#!/usr/bin/env bash
# English model beside the Spanish one: Swift engine vs PyTorch on the BC5CDR + BC2GM devel
# sentences (as plain texts, ten sentences a document) → .build/bench-en.json
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
MODEL=${MODEL_EN:-Models/en-biomed-bilstm-crf}
source training/venv.sh
training_venv --keep-py
swift build -c release --product medtag
mkdir -p .build/bench-en
"$PY" training/english/bench_texts.py --corpora "$CORPORA/en" --texts .build/bench-en/texts --conll .build/bench-en/dev.conll
.build/release/medtag bench --model "$MODEL" .build/bench-en/texts > .build/bench-en/swift.json
(cd training && "$PY" bench_torch.py --model "../$MODEL" --conll ../.build/bench-en/dev.conll \
  --swift ../.build/bench-en/swift.json --out ../.build/bench-en.json)
if [ -f .build/bench/es-pharmaconer-bilstm-crf.json ]; then
  "$PY" - <<'PY'
import json
es, en = json.load(open(".build/bench/es-pharmaconer-bilstm-crf.json")), json.load(open(".build/bench-en.json"))
print("\nbest Swift engine throughput, side by side:")
print(f"  Spanish (default model, PharmaCoNER dev) {es['engine_tokens_per_s']:>9,} tokens/s  (PyTorch {es['pytorch_tokens_per_s']:,})")
print(f"  English (BC5CDR + BC2GM devel)           {en['engine_tokens_per_s']:>9,} tokens/s  (PyTorch {en['pytorch_tokens_per_s']:,})")
PY
fi
