import CZlib

/// gzip settings for stream writers: deflate level and strategy, or no compression at all.
public struct StreamCompression: Sendable, Equatable, CustomStringConvertible {
  /// deflate's strategy; Huffman-only and RLE are 3× faster than the default on float payloads. Huffman-only is
  /// written by `HuffmanDeflate` (several times faster than zlib's), the others by zlib.
  public enum Strategy: String, Sendable, CaseIterable {
    case `default`, filtered, huffmanOnly = "huffman", rle

    var zlibValue: Int32 {
      switch self {
      case .default: return Z_DEFAULT_STRATEGY
      case .filtered: return Z_FILTERED
      case .huffmanOnly: return Z_HUFFMAN_ONLY
      case .rle: return Z_RLE
      }
    }
  }

  /// deflate level 1...9; 0 means no gzip at all (plain `.npy` records, as repeated `np.save` writes).
  public var level: Int32
  /// deflate strategy (ignored when `level` is 0).
  public var strategy: Strategy

  /// The default: level 1, Huffman-only.
  public static let fast = StreamCompression(level: 1, strategy: .huffmanOnly)
  /// No compression: plain `.npy` records.
  public static let none = StreamCompression(level: 0, strategy: .default)

  /// A setting from a level (0...9) and strategy.
  public init(level: Int32, strategy: Strategy = .default) {
    self.level = max(0, min(9, level))
    self.strategy = strategy
  }

  /// Parses a flag value: `none`, `fast` (= `1:huffman`), `best` (= `9`), `gzip` (= `6`), a level `0`...`9`,
  /// or `level:strategy` with strategy `default`, `filtered`, `huffman` (`huffman-only`) or `rle`.
  ///
  /// - Throws: `SpiqaIOError` (`.other`) describing the accepted spellings.
  public init(parsing spec: String) throws {
    let s = spec.lowercased()
    switch s {
    case "none", "no", "off", "plain": self = .none; return
    case "fast": self = .fast; return
    case "best": self = StreamCompression(level: 9); return
    case "gzip", "default": self = StreamCompression(level: 6); return
    default: break
    }
    let parts = s.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let level = Int32(parts[0]), (0...9).contains(level) else {
      throw StreamCompression.syntaxError(spec)
    }
    var strategy = Strategy.default
    if parts.count == 2 {
      switch parts[1] {
      case "default": strategy = .default
      case "filtered": strategy = .filtered
      case "huffman", "huffman-only", "huffman_only", "h": strategy = .huffmanOnly
      case "rle", "r": strategy = .rle
      default: throw StreamCompression.syntaxError(spec)
      }
    }
    self.init(level: level, strategy: strategy)
  }

  private static func syntaxError(_ spec: String) -> SpiqaIOError {
    SpiqaIOError(
      .other, source: "compression", what: "unknown setting '\(spec)'",
      expected: "none, fast, best, gzip, a level 0-9, or level:strategy with default|filtered|huffman|rle (e.g. 1:rle)")
  }

  /// The canonical spelling: `none`, or `level:strategy`.
  public var description: String {
    level == 0 ? "none" : "\(level):\(strategy.rawValue)"
  }
}
