#!/usr/bin/env bash
# Build and run the libFuzzer harness over the record-stream reader (see docs/development.md, "Fuzzing").
#   Fuzz/run.sh [seconds]        default 600; corpus in .build-fuzz/corpus, findings in .build-fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=.build-fuzz
mkdir -p "$out/corpus" "$out/seeds" "$out/CStreamKernels"
# SpiqaIO's C dependencies: the system-library shims (zlib, libdeflate), the CStreamKernels target and the CCPU
# target it uses, compiled here with the same sanitizers (SwiftPM would write CStreamKernels' module map; this is
# its equivalent; CCPU's own module map is not needed, as no Swift file here imports it).
printf 'module CStreamKernels {\n  umbrella "%s"\n  export *\n}\n' "$PWD/Sources/CStreamKernels/include" \
  > "$out/CStreamKernels/module.modulemap"
objects=()
for c in Sources/CCPU/*.c Sources/CStreamKernels/*.c; do
  o="$out/CStreamKernels/$(basename "$c" .c).o"
  clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CCPU/include -I Sources/CStreamKernels/include -c "$c" -o "$o"
  objects+=("$o")
done
# SpiqaCore (JSON, error kinds), which SpiqaIO imports: a module and a static library of its own.
mkdir -p "$out/SpiqaCore"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name SpiqaCore -emit-library -static \
  -emit-module -emit-module-path "$out/SpiqaCore/SpiqaCore.swiftmodule" Sources/SpiqaCore/*.swift \
  -o "$out/SpiqaCore/libSpiqaCore.a"
swiftc -sanitize=fuzzer,address -parse-as-library -O -I Sources/CZlib -I Sources/CDeflate -I "$out/CStreamKernels" \
  -I "$out/SpiqaCore" Sources/SpiqaIO/*.swift Fuzz/StreamReaderFuzz.swift "${objects[@]}" \
  "$out/SpiqaCore/libSpiqaCore.a" -o "$out/spiqa-fuzz-stream" 2>&1 | grep -v "Cannot export local symbol" || true
# Seeds: the numpy-written fixtures (arrays, streams, gzip from Python) and Fuzz/seeds (streams written by
# SpiqaIO with SQ members, plain, and by the gzip CLI).
cp Tests/SpiqaIOTests/Fixtures/*.npy Tests/SpiqaIOTests/Fixtures/*.gz Fuzz/seeds/* "$out/seeds/"
exec "$out/spiqa-fuzz-stream" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds"
