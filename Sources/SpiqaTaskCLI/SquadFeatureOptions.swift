import ArgumentParser
import SpiqaCLI
import SpiqaTasks

/// How SQuAD questions become features, shared by spiqa-extract and spiqa-eval (the reference's values).
public struct SquadFeatureOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: tokens per feature, padding included (the reference: 320).", valueName: "n"))
  public var maxSeqLen: Int = 320

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: context tokens between the starts of consecutive features.", valueName: "n"))
  public var docStride: Int = 128

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: question tokens kept.", valueName: "n"))
  public var maxQueryLen: Int = 64

  public init() {}

  /// Refuses sizes outside 1…`FlagLimits.tokens` (exit 64).
  public func validate() throws {
    for (flag, v) in [("--max-seq-len", maxSeqLen), ("--doc-stride", docStride), ("--max-query-len", maxQueryLen)] {
      try FlagLimits.check(flag, v, atMost: FlagLimits.tokens)
    }
  }

  public var featurizer: SquadFeaturizer {
    SquadFeaturizer(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
  }
}
