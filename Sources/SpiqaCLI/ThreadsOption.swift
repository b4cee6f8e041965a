import ArgumentParser

/// `--threads`, the same flag on spiqa-extract and spiqa-hist: 1…`FlagLimits.threads`; absent = all cores.
/// The libraries cap it where more threads cannot help (spiqa-hist: one per head, at most 64).
public struct ThreadsOption: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("Compute threads (default: all cores). Results do not depend on it.", valueName: "n"))
  public var threads: Int?

  public init() {}

  public func validate() throws { try FlagLimits.check("--threads", threads, atMost: FlagLimits.threads) }
}
