# Shared by Scripts/cv.sh and training/english/cv.sh (sourced, from the repository root).

# Makes training/.venv with training/requirements.txt when it cannot import what training needs.
cv_python() {
  if ! "$PY" -c "import torch, safetensors, numpy" 2>/dev/null; then
    python3 -m venv training/.venv
    training/.venv/bin/pip install -q -r training/requirements.txt
  fi
}

# Calls run_fold K for each fold of FOLDS whose RESULTS/fold-K.json does not exist yet, PARALLEL at a
# time, then prints the summary of RESULTS (against training/cv/results/PREFIX-AGAINST with AGAINST).
cv_run_folds() {  # cv_run_folds PREFIX
  local prefix=$1 pids=() k p
  for k in $FOLDS; do
    [ -f "$RESULTS/fold-$k.json" ] && continue
    run_fold "$k" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$PARALLEL" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
  "$PY" training/cv.py summary "$RESULTS" ${AGAINST:+--against training/cv/results/$prefix-$AGAINST} ${MARKDOWN:+--markdown}
}
