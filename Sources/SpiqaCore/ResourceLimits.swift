#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory limits on what one input may make a tool hold, each changeable with an environment variable
/// (docs/robustness.md). A small gzip member can inflate to gigabytes; these turn that into a one-line error.
public enum ResourceLimits {
  /// One tensor record of a stream: `SPIQA_MAX_RECORD_BYTES`, default 1 GiB (roberta-large's 24 × 16 × 512 × 512
  /// float32 attention is 403 MB).
  public static let recordBytesVariable = "SPIQA_MAX_RECORD_BYTES"
  public static let defaultRecordBytes = 1 << 30
  /// One metadata (JSON) record of a stream: `SPIQA_MAX_METADATA_BYTES`, default 16 MiB (real ones are < 64 KiB).
  public static let metadataBytesVariable = "SPIQA_MAX_METADATA_BYTES"
  public static let defaultMetadataBytes = 16 << 20
  /// The records of one example buffered by a data-dependent quantizer with the example scope:
  /// `SPIQA_MAX_EXAMPLE_BYTES`, default 4 GiB, counted as 16 bytes per buffered value: the original and quantized
  /// float32 copies and the statistics' sort keys with their radix-sort scratch (what peak RSS shows).
  public static let exampleBytesVariable = "SPIQA_MAX_EXAMPLE_BYTES"
  public static let defaultExampleBytes = 4 << 30
  /// One data file (`--data`: SQuAD JSON, GLUE TSV, your TSV/CSV/JSONL or text), which is read whole:
  /// `SPIQA_MAX_DATA_BYTES`, default 1 GiB (SQuAD v1.1 dev is 4.9 MB, MNLI train 0.3 GB).
  public static let dataBytesVariable = "SPIQA_MAX_DATA_BYTES"
  public static let defaultDataBytes = 1 << 30

  /// The limit set by `variable`, else `fallback`.
  ///
  /// Values are bytes, optionally with a binary suffix: `1073741824`, `512M`, `4G` (K, M, G, T; `KiB`... and
  /// `B` accepted).
  /// - Throws: `LimitError` (64) when the variable is set to something that is not a positive size.
  public static func value(_ variable: String, default fallback: Int) throws -> Int {
    guard let raw = getenv(variable) else { return fallback }
    let text = String(cString: raw)
    if text.isEmpty { return fallback }
    guard let v = parseSize(text), v > 0 else {
      throw LimitError(.usage, "\(variable)='\(text)' is not a size; expected bytes such as 1073741824, 512M or 4G")
    }
    return v
  }

  /// `1234`, `64K`, `512M`, `4G`, `1T` (binary multiples; `KiB`, `MB`... spellings too); nil if not a size.
  public static func parseSize(_ text: String) -> Int? {
    var s = text.uppercased()
    if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
    var shift = 0
    switch s.last {
    case "K": shift = 10
    case "M": shift = 20
    case "G": shift = 30
    case "T": shift = 40
    default: break
    }
    if shift > 0 { s.removeLast() }
    guard let n = Int(s), n >= 0 else { return nil }
    let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
    return overflow ? nil : v
  }
}

/// An input beyond a `ResourceLimits` limit (65), or a limit variable that cannot be read (64).
public struct LimitError: SpiqaError, Sendable {
  public var kind: SpiqaErrorKind
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
