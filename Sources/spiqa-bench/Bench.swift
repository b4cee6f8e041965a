import ArgumentParser
import SpiqaCLI

/// `make bench`: speed and memory numbers for each part of spiqa. Prints numbers; asserts nothing.
@main
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-bench",
    abstract: "Measure spiqa's throughput and memory (run by `make bench`).",
    version: SpiqaVersion.line("spiqa-bench"),
    subcommands: [
      IOBench.self, TokenizerBench.self, RuntimeBench.self, QuantBench.self, HistBench.self, ExtractBench.self,
      EvalBench.self, AttentionBench.self,
    ])
}
