// swift-tools-version: 6.2
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let realModule = Target.Dependency.product(name: "RealModule", package: "swift-numerics")

let package = Package(
  name: "spiqa",
  products: [
    .library(name: "SpiqaIO", targets: ["SpiqaIO"]),
    .library(name: "SpiqaQuant", targets: ["SpiqaQuant"]),
    .library(name: "SpiqaTokenizers", targets: ["SpiqaTokenizers"]),
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
    .target(name: "SpiqaIO", dependencies: ["CZlib", "CDeflate", "CKernels"]),
    .target(name: "SpiqaQuant"),
    .target(name: "SpiqaStats", dependencies: ["CKernels"]),
    // Element-wise kernels in C with runtime AVX-512 / AVX2 / portable dispatch (no global -march flags).
    .target(name: "CKernels"),
    // WordPiece and byte-level BPE tokenizers, AutoTokenizer, vocabulary files.
    .target(name: "SpiqaTokenizers"),
    .target(name: "SpiqaModel", dependencies: ["COpenBLAS", "CKernels", realModule]),
    .target(name: "SpiqaTasks", dependencies: ["SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaIO"]),
    // Option groups, exit-code mapping and progress shared by the command-line tools.
    .target(name: "SpiqaCLI", dependencies: ["SpiqaIO", argumentParser]),

    // Thin command-line tools.
    .executableTarget(name: "spiqa-extract", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaTasks", argumentParser]),
    .executableTarget(name: "spiqa-quantize", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaQuant", argumentParser]),
    .executableTarget(name: "spiqa-hist", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaStats", argumentParser]),
    .executableTarget(name: "spiqa-eval", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaTasks", argumentParser]),
    // Benchmarks behind `make bench` (never run by the tests).
    .executableTarget(name: "spiqa-bench", dependencies: ["SpiqaCLI", "SpiqaIO", "SpiqaModel", "SpiqaTokenizers", "SpiqaQuant", "SpiqaStats", "SpiqaTasks", "COpenBLAS", argumentParser]),

    // Tests.
    .testTarget(name: "SpiqaIOTests", dependencies: ["SpiqaIO", "SpiqaCLI", "CKernels"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaQuantTests", dependencies: ["SpiqaQuant"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaStatsTests", dependencies: ["SpiqaStats", "CKernels"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaModelTests", dependencies: ["SpiqaModel", "CKernels"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaTokenizersTests", dependencies: ["SpiqaTokenizers"], resources: [.copy("Fixtures")]),
    .testTarget(name: "SpiqaTasksTests", dependencies: ["SpiqaTasks", "SpiqaIO", "SpiqaQuant"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "CLITests",
      dependencies: ["SpiqaIO", "spiqa-extract", "spiqa-quantize", "spiqa-hist", "spiqa-eval"],
      resources: [.copy("Fixtures")]),
  ],
  swiftLanguageModes: [.v6]
)
