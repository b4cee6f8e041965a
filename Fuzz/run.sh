#!/usr/bin/env bash
# Build and run the libFuzzer harnesses (see docs/development.md, "Fuzzing").
#   Fuzz/run.sh [seconds] [target] [libFuzzer flags…]
#     target: stream (default), npy-header, checkpoint, or all (seconds each); corpus in .build-fuzz/corpus-<target>,
#     findings in .build-fuzz/<target>-crash-…; e.g. `-fork=1 -ignore_crashes=1` to keep going past a finding
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
target=${2:-stream}
shift $(( $# < 2 ? $# : 2 ))
out=.build-fuzz
case "$target" in
  all) for t in stream npy-header checkpoint; do "$0" "$seconds" "$t" "$@"; done; exit 0 ;;
  stream|npy-header|checkpoint) ;;
  *) echo "Fuzz/run.sh: unknown target '$target' (stream, npy-header, checkpoint, all)" >&2; exit 64 ;;
esac
mkdir -p "$out/corpus-$target" "$out/seeds-$target" "$out/CStreamKernels" "$out/SpiqaCore" "$out/CDigestKernels"
# SpiqaCore (JSON, error kinds), which SpiqaIO and SpiqaModel import: a module and a static library of its own,
# with its C target CDigestKernels (module map written here, as SwiftPM would; its object linked into the library).
printf 'module CDigestKernels {\n  umbrella "%s"\n  export *\n}\n' "$PWD/Sources/CDigestKernels/include" \
  > "$out/CDigestKernels/module.modulemap"
clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CDigestKernels/include -c Sources/CDigestKernels/sha256_blocks.c \
  -o "$out/CDigestKernels/sha256_blocks.o"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name SpiqaCore -emit-library -static \
  -I "$out/CDigestKernels" -emit-module -emit-module-path "$out/SpiqaCore/SpiqaCore.swiftmodule" \
  Sources/SpiqaCore/*.swift "$out/CDigestKernels/sha256_blocks.o" -o "$out/SpiqaCore/libSpiqaCore.a"
quiet_link() { grep -v "Cannot export local symbol" || true; }
rm -f "$out/spiqa-fuzz-$target"
if [ "$target" = checkpoint ]; then
  # The weights readers (safetensors, PyTorch zip/legacy, pickle) with SpiqaModel's error type; no model code.
  swiftc -sanitize=fuzzer,address -parse-as-library -O -I "$out/SpiqaCore" -I "$out/CDigestKernels" \
    Sources/SpiqaModel/SpiqaModelError.swift Sources/SpiqaModel/Weights/WeightSource.swift \
    Sources/SpiqaModel/Weights/SafetensorsFile.swift Sources/SpiqaModel/Weights/PyTorchBin*.swift \
    Sources/SpiqaModel/Weights/Pickle*.swift Sources/SpiqaModel/Weights/ZipArchive.swift \
    Sources/SpiqaModel/Weights/RawTensor+FloatConversion.swift Fuzz/CheckpointFuzz.swift \
    "$out/SpiqaCore/libSpiqaCore.a" -o "$out/spiqa-fuzz-checkpoint" 2>&1 | quiet_link || true
  cp Tests/SpiqaModelTests/Fixtures/pytorch/*.bin Tests/SpiqaModelTests/Fixtures/pytorch/*.safetensors \
    "$out/seeds-$target/"
  maxlen=8192
else
  # SpiqaIO's C dependencies: the system-library shims (zlib, libdeflate), the CStreamKernels target and the
  # CCPU target it uses, compiled here with the same sanitizers (SwiftPM would write CStreamKernels' module map;
  # this is its equivalent; CCPU's own module map is not needed, as no Swift file here imports it).
  printf 'module CStreamKernels {\n  umbrella "%s"\n  export *\n}\n' "$PWD/Sources/CStreamKernels/include" \
    > "$out/CStreamKernels/module.modulemap"
  objects=()
  for c in Sources/CCPU/*.c Sources/CStreamKernels/*.c; do
    o="$out/CStreamKernels/$(basename "$c" .c).o"
    clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CCPU/include -I Sources/CStreamKernels/include -c "$c" -o "$o"
    objects+=("$o")
  done
  harness=Fuzz/StreamReaderFuzz.swift
  [ "$target" = npy-header ] && harness=Fuzz/NPYHeaderFuzz.swift
  swiftc -sanitize=fuzzer,address -parse-as-library -O -I Sources/CZlib -I Sources/CDeflate -I "$out/CStreamKernels" \
    -I "$out/SpiqaCore" -I "$out/CDigestKernels" Sources/SpiqaIO/*.swift "$harness" "${objects[@]}" \
    "$out/SpiqaCore/libSpiqaCore.a" -o "$out/spiqa-fuzz-$target" 2>&1 | quiet_link || true
  if [ "$target" = stream ]; then
    # The numpy-written fixtures (arrays, streams, gzip from Python) and Fuzz/seeds (streams written by SpiqaIO
    # with SQ members, plain, and by the gzip CLI).
    cp Tests/SpiqaIOTests/Fixtures/*.npy Tests/SpiqaIOTests/Fixtures/*.gz Fuzz/seeds/* "$out/seeds-$target/"
    maxlen=16384
  else
    # Header dicts: those numpy writes (taken from the fixtures' NPY prefixes) and Fuzz/seeds/npy-header/.
    for f in Tests/SpiqaIOTests/Fixtures/*.npy; do
      python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); n=int.from_bytes(b[8:10],"little") if b[6]==1 else int.from_bytes(b[8:12],"little"); s=10 if b[6]==1 else 12; sys.stdout.buffer.write(b[s:s+n])' \
        "$f" > "$out/seeds-$target/$(basename "$f" .npy).txt"
    done
    maxlen=4096
  fi
fi
[ -x "$out/spiqa-fuzz-$target" ] || { echo "Fuzz/run.sh: the $target harness did not build" >&2; exit 1; }
exec "$out/spiqa-fuzz-$target" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/$target-" "$@" "$out/corpus-$target" "$out/seeds-$target"
