// swift-tools-version: 6.2
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let realModule = Target.Dependency.product(name: "RealModule", package: "swift-numerics")

let package = Package(
  name: "spiqa",
  products: [
    .library(name: "SpiqaCore", targets: ["SpiqaCore"]),
    .library(name: "SpiqaIO", targets: ["SpiqaIO"]),
    .library(name: "SpiqaQuant", targets: ["SpiqaQuant"]),
    .library(name: "SpiqaTokenizers", targets: ["SpiqaTokenizers"]),
    .library(name: "SpiqaHub", targets: ["SpiqaHub"]),
    .library(name: "SpiqaModel", targets: ["SpiqaModel"]),
    .library(name: "SpiqaTasks", targets: ["SpiqaTasks"]),
    .executable(name: "spiqa-extract", targets: ["spiqa-extract"]),
    .executable(name: "spiqa-quantize", targets: ["spiqa-quantize"]),
    .executable(name: "spiqa-hist", targets: ["spiqa-hist"]),
    .executable(name: "spiqa-eval", targets: ["spiqa-eval"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
  ],
  targets: [
    // System libraries (Debian: zlib1g-dev, libdeflate-dev, libopenblas-dev).
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

    // Libraries: all the logic lives here.
    // The error kinds and their exit codes, the JSON value/parser/writer, SplitMix64, FileDigest (SHA-256 blocks from
    // CDigestKernels where the CPU has the SHA instructions).
    .target(name: "SpiqaCore", dependencies: ["CDigestKernels"]),
    // C kernels with runtime AVX-512 / AVX2 / portable dispatch (no global -march flags): CCPU detects the CPU
    // and holds the per-thread ISA override; each kernel target serves one library.
    .target(name: "CCPU"),
    // SHA-256 blocks with the CPU's SHA instructions, for SpiqaCore's FileDigest.
    .target(name: "CDigestKernels"),
    .target(name: "CStreamKernels", dependencies: ["CCPU"]),
    .target(name: "CStatKernels", dependencies: ["CCPU"]),
    .target(name: "CModelKernels", dependencies: ["CCPU"]),
    .target(name: "CQuantKernels", dependencies: ["CCPU"]),
    .target(name: "SpiqaIO", dependencies: ["SpiqaCore", "CZlib", "CDeflate", "CStreamKernels"]),
    .target(name: "SpiqaQuant", dependencies: ["SpiqaCore", "SpiqaIO", "CQuantKernels"]),
    .target(name: "SpiqaStats", dependencies: ["SpiqaCore", "SpiqaIO", "CStatKernels"]),
    // WordPiece and byte-level BPE tokenizers, AutoTokenizer, vocabulary files.
    .target(name: "SpiqaTokenizers", dependencies: ["SpiqaCore"]),
    // The Hugging Face Hub client and cache (the only target that uses the network).
    .target(name: "SpiqaHub", dependencies: ["SpiqaCore"]),
    // The encoder: no tokenizers, no networking.
    .target(name: "SpiqaModel", dependencies: ["SpiqaCore", "COpenBLAS", "CModelKernels", "CCPU", realModule]),
    .target(name: "SpiqaTasks", dependencies: ["SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaIO", "CQuantKernels"]),
    // Option groups, exit-code mapping, progress, default paths and model resolution shared by the tools.
    .target(name: "SpiqaCLI", dependencies: ["SpiqaCore", "SpiqaIO", "SpiqaHub", "SpiqaQuant", "SpiqaStats", "CBuildInfo", "CCPU", argumentParser]),
    // The git commit behind --version (Makefile-written, git-ignored build_commit.h; "unknown" without it).
    .target(name: "CBuildInfo"),
    // The option groups over tasks (selection, task, SQuAD featurization): their own target, so spiqa-hist and
    // spiqa-quantize do not link the model.
    .target(name: "SpiqaTaskCLI", dependencies: ["SpiqaCLI", "SpiqaTasks", "SpiqaTokenizers", argumentParser]),

    // Thin command-line tools.
    .executableTarget(name: "spiqa-extract", dependencies: ["SpiqaCLI", "SpiqaTaskCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaTasks", argumentParser]),
    .executableTarget(name: "spiqa-quantize", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaQuant", argumentParser]),
    .executableTarget(name: "spiqa-hist", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaStats", argumentParser]),
    .executableTarget(name: "spiqa-eval", dependencies: ["SpiqaCLI", "SpiqaTaskCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaTasks", argumentParser]),
    // Benchmarks behind `make bench` (never run by the tests).
    .executableTarget(name: "spiqa-bench", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaStats", "SpiqaTasks", "COpenBLAS", "CCPU", argumentParser]),

    // Tests. SpiqaTestSupport: the process runner, paths (package, shared folder, model, built tools), python3,
    // the ISA-level walker.
    .target(name: "SpiqaTestSupport", dependencies: ["CCPU"], path: "Tests/SpiqaTestSupport"),
    .testTarget(
      name: "SpiqaIOTests", dependencies: ["SpiqaIO", "SpiqaCLI", "CCPU", "CStreamKernels", "SpiqaTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SpiqaQuantTests", dependencies: ["SpiqaQuant", "SpiqaIO", "CCPU", "CQuantKernels", "SpiqaTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SpiqaStatsTests", dependencies: ["SpiqaStats", "SpiqaIO", "CCPU", "CStatKernels", "SpiqaTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SpiqaModelTests", dependencies: ["SpiqaModel", "CCPU", "CModelKernels", "SpiqaTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "SpiqaTokenizersTests", dependencies: ["SpiqaTokenizers", "SpiqaTestSupport", "CZlib"],
      resources: [.copy("Fixtures")]),
    // The fake Hub serves SpiqaModelTests' checkpoint fixtures; SpiqaModel checks that a download loads.
    .testTarget(
      name: "SpiqaHubTests", dependencies: ["SpiqaHub", "SpiqaModel", "SpiqaTestSupport", "CDigestKernels"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaCLITests", dependencies: ["SpiqaCLI", "SpiqaTestSupport"]),
    .testTarget(
      name: "SpiqaTasksTests", dependencies: ["SpiqaTasks", "SpiqaIO", "SpiqaQuant", "SpiqaTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "CLITests",
      dependencies: ["SpiqaIO", "SpiqaTestSupport", "spiqa-extract", "spiqa-quantize", "spiqa-hist", "spiqa-eval"],
      resources: [.copy("Fixtures")]),
  ],
  swiftLanguageModes: [.v6]
)
