#!/usr/bin/env bash
# End-to-end speed of the nightly paths beside the engine's own, from the same run:
#   NOTES clinical notes (the PharmaCoNER dev texts repeated) as a folder through `medtag annotate`
#   and as a .tar.gz through `medtag ingest` and through the daemon (`medtag serve`, the archive dropped
#   into its inbox); tokens/s, CPU use and peak memory of each, and the
#   engine's 2-worker tokens/s (`medtag bench`) on the same texts; and how long a lone note dropped
#   into the idle daemon takes to come out.
# NOTES (default 2000), MODEL, DEV and BIN can be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPORA=$(cd "${MEDTAG_CORPORA:-../shared/corpora}" && pwd)
DEV=${DEV:-$CORPORA/pharmaconer/dev}
MODEL=${MODEL:-Models/es-pharmaconer-bilstm-crf}
NOTES=${NOTES:-2000}
BIN=${BIN:-.build/release/medtag}
[ -n "${BIN_BUILT:-}" ] || swift build -c release --product medtag
WORK=.build/bench-ingest
rm -rf "$WORK" && mkdir -p "$WORK/notes"
mapfile -t TEXTS < <(ls "$DEV"/*.txt | sort)
for ((i = 0; i < NOTES; i++)); do
  cp "${TEXTS[i % ${#TEXTS[@]}]}" "$WORK/notes/$(printf 'nota-%05d.txt' "$i")"
done
tar -czf "$WORK/notes.tar.gz" -C "$WORK" notes

# Runs a command under /usr/bin/time -v; prints "seconds cpu% rss_mb".
measure() {
  /usr/bin/time -v -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt" >&2; return 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
              /Percent of CPU/ { cpu = $2 } /Maximum resident/ { rss = $2 / 1024 }
              END { printf "%.2f %s %.0f\n", s, cpu, rss }' "$WORK/time.txt"
}

read -r a_s a_cpu a_rss < <(measure "$BIN" annotate "$WORK/notes" --model "$MODEL" -o "$WORK/annotate")
TOKENS=$(sed -n 's/.*: \([0-9]*\) tokens, .*/\1/p' "$WORK/out.txt")
read -r i_s i_cpu i_rss < <(measure "$BIN" ingest --spool "$WORK/spool" --model "$MODEL" --keep "$WORK/notes.tar.gz")
# The daemon: started, the archive dropped into its inbox once it is ready, timed until it is done.
mkdir -p "$WORK/daemon/inbox"
/usr/bin/time -v -o "$WORK/time-serve.txt" "$BIN" serve --spool "$WORK/daemon" --model "$MODEL" --log-level warning \
  > "$WORK/serve.log" 2>&1 &
SERVE=$!
sleep 3
cp "$WORK/notes.tar.gz" "$WORK/daemon/inbox/.notes.tar.gz" && dropped=$(date +%s.%N)
mv "$WORK/daemon/inbox/.notes.tar.gz" "$WORK/daemon/inbox/notes.tar.gz"
until [ -e "$WORK/daemon/done/notes.tar.gz" ] || [ -e "$WORK/daemon/failed/notes.tar.gz" ]; do
  kill -0 "$SERVE" 2> /dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.2
done
d_s=$(awk -v a="$dropped" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
# Latency of a lone note: 20 dev texts dropped one at a time into the idle daemon, each timed from
# its rename into the inbox until it is in done/ (results published before that).
read -r lone_median lone_max < <(python3 - "$WORK/daemon" "$DEV" <<'PY'
import glob, os, shutil, statistics, sys, time
spool, dev = sys.argv[1], sys.argv[2]
times = []
for i, text in enumerate(sorted(glob.glob(os.path.join(dev, "*.txt")))[:20]):
    name = f"lone-{i:02d}.txt"
    hidden = os.path.join(spool, "inbox", "." + name)
    shutil.copy(text, hidden)
    start = time.monotonic()
    os.rename(hidden, os.path.join(spool, "inbox", name))
    done = os.path.join(spool, "done", name)
    while not os.path.exists(done):
        if time.monotonic() - start > 30:
            sys.exit(f"{name} was not done after 30 s")
        time.sleep(0.001)
    times.append((time.monotonic() - start) * 1000)
print(f"{statistics.median(times):.0f} {max(times):.0f}")
PY
)
# SIGTERM to the daemon (the child of time), which then writes its figures.
kill -TERM "$(pgrep -P "$SERVE")" && wait "$SERVE" || true
d_rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$WORK/time-serve.txt")
"$BIN" bench --model "$MODEL" --workers 2 "$DEV" > "$WORK/engine.json"
ENGINE=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(max(x["tokensPerSecond"] for x in r["rows"] if x["workers"]==2)))' "$WORK/engine.json")
echo "$NOTES notes, $TOKENS tokens, $(nproc) cores"
printf '%-34s %10s %8s %6s %8s %9s\n' "" "seconds" "tokens/s" "CPU" "peak MB" "of engine"
row() {
  awk -v name="$1" -v s="$2" -v cpu="$3" -v rss="$4" -v tokens="$TOKENS" -v engine="$ENGINE" \
    'BEGIN { printf "%-34s %10s %8.0f %6s %8s %8.0f%%\n", name, s, tokens / s, cpu, rss, 100 * tokens / s / engine }'
}
row "medtag annotate (folder)" "$a_s" "$a_cpu" "$a_rss"
row "medtag ingest (.tar.gz)" "$i_s" "$i_cpu" "$i_rss"
row "medtag serve (.tar.gz dropped)" "$d_s" "-" "$d_rss"
printf '%-34s %10s %8s\n' "engine alone, 2 workers" "" "$ENGINE"
printf '%-34s %10s\n' "a lone note through the daemon" "${lone_median} ms median, ${lone_max} ms at most (20 notes)"
