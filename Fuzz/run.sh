#!/usr/bin/env bash
# Build and run the libFuzzer harness over the record-stream reader (see docs/development.md, "Fuzzing").
#   Fuzz/run.sh [seconds]        default 600; corpus in .build-fuzz/corpus, findings in .build-fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=.build-fuzz
mkdir -p "$out/corpus" "$out/seeds"
swiftc -sanitize=fuzzer,address -parse-as-library -O -I Sources/CZlib \
  Sources/SpiqaIO/*.swift Fuzz/StreamReaderFuzz.swift -o "$out/spiqa-fuzz-stream" 2>&1 \
  | grep -v "Cannot export local symbol" || true
# Seeds: the numpy-written fixtures (arrays, streams, gzip from Python) and Fuzz/seeds (streams written by
# SpiqaIO with SQ members, plain, and by the gzip CLI).
cp Tests/SpiqaIOTests/Fixtures/*.npy Tests/SpiqaIOTests/Fixtures/*.gz Fuzz/seeds/* "$out/seeds/"
exec "$out/spiqa-fuzz-stream" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds"
