import ArgumentParser
import SpiqaTasks

/// Which examples a run takes, shared by spiqa-extract and spiqa-eval: `--samples/-sa`, `--seed`, `--limit`,
/// `--offset` as a `Selection`, and `--shard I/N` as a `Shard` (docs/scaling.md).
public struct SelectionOptions: ParsableArguments {
  @Option(
    name: [.long, .customLong("sa", withSingleDash: true)], parsing: .unconditional,
    help: ArgumentHelp("Python's random.seed(SEED); random.sample(items, N) (the paper: -sa 100; N ≤ 0 = all).", valueName: "n"))
  public var samples: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Seed of --samples.", valueName: "s"))
  public var seed: Int = 123

  @Option(parsing: .unconditional, help: ArgumentHelp("Take at most N examples (contiguous, from --offset).", valueName: "n"))
  public var limit: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Skip the first N examples.", valueName: "n"))
  public var offset: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Run part I of N of the selection (0 ≤ I < N): spiqa-extract's part 0 alone writes the stream header, spiqa-eval's --per-example ends with a shard line for --merge (docs/scaling.md).",
      valueName: "I/N"))
  public var shard: String?

  public init() {}

  public func validate() throws {
    _ = try selection()
    _ = try parsedShard()
  }

  /// - Throws: `ValidationError` (exit 64) naming the flags.
  public func selection() throws -> Selection {
    do {
      return try Selection(samples: samples, limit: limit, offset: offset, seed: seed)
    } catch let e as TasksError {
      throw ValidationError("--samples/--limit/--offset: \(e.description)")
    }
  }

  /// - Throws: `ValidationError` (exit 64) naming `--shard`.
  public func parsedShard() throws -> Shard? {
    do {
      return try shard.map { try Shard(parsing: $0) }
    } catch let e as TasksError {
      throw ValidationError("--shard: \(e.description)")
    }
  }
}
