import ArgumentParser

/// Upper bounds of the size flags, so a typo cannot size memory beyond any data (docs/robustness.md).
///
/// The libraries also clamp batches to the number of sequences they have; these refuse absurd values (exit 64)
/// before anything is allocated.
public enum FlagLimits {
  /// `--batch-size`: sequences per batch.
  public static let batchSize = 1024
  /// `--max-seq-len`, `--max-length`, `--doc-stride`, `--max-query-len`, `--max-answer-len`: tokens.
  public static let tokens = 1 << 16
  /// `--threads`.
  public static let threads = 1024

  /// Refuses `value` outside `1...limit` with a message naming `flag` (exit 64).
  public static func check(_ flag: String, _ value: Int?, atMost limit: Int) throws {
    guard let value else { return }
    guard value >= 1 else { throw ValidationError("\(flag) must be ≥ 1, got \(value)") }
    guard value <= limit else { throw ValidationError("\(flag) must be at most \(limit), got \(value)") }
  }
}
