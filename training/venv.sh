# Sourced by the training, cross-validation and benchmark scripts (from the repository root).

# Sets PY to training/.venv's Python, made with training/requirements.txt when it cannot import what
# training needs. With --keep-py, a PY given by the caller that can import them is kept instead.
training_venv() {  # training_venv [--keep-py]
  if [ "${1:-}" = --keep-py ] && [ -n "${PY:-}" ] && "$PY" -c "import torch, safetensors, numpy" 2>/dev/null; then
    return 0
  fi
  PY=$PWD/training/.venv/bin/python
  if ! "$PY" -c "import torch, safetensors, numpy" 2>/dev/null; then
    python3 -m venv training/.venv
    training/.venv/bin/pip install -q -r training/requirements.txt
  fi
}
