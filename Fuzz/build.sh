#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Fuzz/Harnesses against the library sources, instrumented for
# coverage (libFuzzer) and AddressSanitizer. Output: .build-fuzz/bin/fuzz-<target>.
#
#   Fuzz/build.sh            (run from the package root, after `swift build`)
#
# The library modules are compiled straight from Sources/ with -enable-testing, so harnesses can
# reach internal functions. The archive harness links swift-system as `swift build` built it
# (not instrumented: only medtag's own code is under test).
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
OUT=.build-fuzz
OBJ=$OUT/obj
BIN=$OUT/bin
mkdir -p "$OBJ" "$BIN"
SAN=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -warnings-as-errors -g -O)

module() {  # module NAME DEPS... -- SOURCES...
  local name=$1; shift
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  echo "compiling $name"
  "$SWIFTC" "${SAN[@]}" -enable-testing -wmo -c -module-name "$name" \
    -emit-module -emit-module-path "$OBJ/$name.swiftmodule" -I "$OBJ" "${args[@]}" "$@" -o "$OBJ/$name.o"
}

module MedtagText -- Sources/MedtagText/*.swift
module MedtagTagging -- Sources/MedtagTagging/*.swift
module MedtagFormats -- Sources/MedtagFormats/*.swift

# The ingestion module (archive reader, limits, member checks), compiled from its sources like the
# others; it links swift-system as `swift build` built it.
SYSTEM=.build/debug/Modules/SystemPackage.swiftmodule
if [ ! -e "$SYSTEM" ]; then
  echo "Fuzz/build.sh: $SYSTEM is missing; run \`swift build\` first" >&2
  exit 1
fi
CSYSTEM_INCLUDE=$(find .build/checkouts/swift-system -path '*CSystem/include' -type d | head -1)
module MedtagIngest -I .build/debug/Modules -I "$CSYSTEM_INCLUDE" -I Sources/CArchive -- Sources/MedtagIngest/*.swift
SYSTEM_OBJECTS=(.build/debug/SystemPackage.build/*.swift.o .build/debug/CSystem.build/*.o)

link() {  # link TARGET HARNESS OBJECTS... [-- EXTRA]
  local target=$1 harness=$2; shift 2
  echo "linking fuzz-$target"
  "$SWIFTC" "${SAN[@]}" -I "$OBJ" -I .build/debug/Modules -I "$CSYSTEM_INCLUDE" -I Sources/CArchive \
    "$harness" "$@" -o "$BIN/fuzz-$target" 2> "$OUT/link-$target.log" || { cat "$OUT/link-$target.log" >&2; exit 1; }
}

link tokenizer Fuzz/Harnesses/Tokenizer.swift "$OBJ/MedtagText.o"
link brat Fuzz/Harnesses/BRATReader.swift "$OBJ/MedtagFormats.o" "$OBJ/MedtagTagging.o" "$OBJ/MedtagText.o"
INGEST_OBJECTS=("$OBJ/MedtagIngest.o" "$OBJ/MedtagFormats.o" "$OBJ/MedtagTagging.o" "$OBJ/MedtagText.o" "${SYSTEM_OBJECTS[@]}" -larchive)
link xml Fuzz/Harnesses/XMLText.swift "${INGEST_OBJECTS[@]}"
link pieces Fuzz/Harnesses/TextPieces.swift "${INGEST_OBJECTS[@]}"
link archive Fuzz/Harnesses/Archive.swift "${INGEST_OBJECTS[@]}"
echo "harnesses in $BIN: $(ls "$BIN" | tr '\n' ' ')"
