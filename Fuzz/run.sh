#!/usr/bin/env bash
# Runs every libFuzzer harness for a bounded time: Fuzz/run.sh [SECONDS_EACH] (default 60).
# The working corpus grows under .build-fuzz/corpus/<target> (seeded from Fuzz/corpus/<target>);
# a crash leaves its input in .build-fuzz/crashes/<target>/ and makes the script exit non-zero.
# Turn a crash into a regression test before fixing it.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
OUT=.build-fuzz
status=0
for target in tokenizer brat xml pieces archive; do
  bin=$OUT/bin/fuzz-$target
  [ -x "$bin" ] || { echo "missing $bin: run Fuzz/build.sh" >&2; exit 1; }
  mkdir -p "$OUT/corpus/$target" "$OUT/crashes/$target"
  cp -n Fuzz/corpus/$target/* "$OUT/corpus/$target/" 2>/dev/null || true
  dict=(); [ -f "Fuzz/$target.dict" ] && dict=(-dict="Fuzz/$target.dict")
  echo "== fuzz-$target for ${SECONDS_EACH}s"
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$bin" "$OUT/corpus/$target" "${dict[@]}" -max_total_time="$SECONDS_EACH" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$OUT/crashes/$target/" > "$OUT/fuzz-$target.log" 2>&1
  rc=$?
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: .*ft:" "$OUT/fuzz-$target.log" | tail -3
  if [ $rc -ne 0 ]; then
    echo "fuzz-$target FOUND A PROBLEM (exit $rc): $(ls "$OUT/crashes/$target" | head -3); log: $OUT/fuzz-$target.log"
    grep -m3 -E "ERROR|Fatal error|precondition|deadly signal|timeout" "$OUT/fuzz-$target.log"
    status=1
  fi
done
exit $status
