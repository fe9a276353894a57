# Shared by Scripts/cv.sh and training/english/cv.sh (sourced, from the repository root).

# Makes training/.venv with training/requirements.txt when it cannot import what training needs,
# builds medtag, makes WORK and RESULTS, and sets EMB: the word vectors of a training run when
# TRAINED_EMB has them, else the ones MODEL carries (the fp16 values the engine reads).
source training/venv.sh

cv_prepare() {  # cv_prepare TRAINED_EMB MODEL
  training_venv
  swift build -c release --product medtag
  mkdir -p "$WORK" "$RESULTS"
  EMB=$1
  if [ ! -f "$EMB/vectors.npy" ]; then
    EMB=$WORK/emb
    [ -f "$EMB/vectors.npy" ] || "$PY" training/cv.py vectors --model "$2" --out "$EMB"
  fi
}

# Sets the caller's `runs` (paths from training/) to fold K's run, or with MEMBERS to the members'
# runs of configurations already run, whose training facts it records in RUN/result.json.
cv_runs() {  # cv_runs K RUN
  local k=$1 run=$2 members=() m
  runs=("../$run")
  [ -n "$MEMBERS" ] || return 0
  runs=()
  for m in $MEMBERS; do
    [ -f "$WORK/$m/fold-$k/run/result.json" ] || { echo "fold $k: run CONFIG=$m first" >&2; return 1; }
    runs+=("../$WORK/$m/fold-$k/run")
    members+=("$WORK/$m/fold-$k/run")
  done
  "$PY" training/cv.py ensemble-result --out "$run" "${members[@]}"
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
