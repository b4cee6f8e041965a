import SpiqaCore

/// The last line of a sharded run's per-example file (`spiqa-eval --shard I/N --per-example F`): which part of
/// which run the lines above it are, and the counts that per-example lines do not carry (sparsity, features), so
/// that `EvalMerge` can rebuild the unsharded result line (docs/scaling.md).
///
/// `{"spiqa_shard": {"index", "count", "run", "selected", "digest", "items": [lo, hi], "n", "lines_digest",
/// "features", "sparsity_zeros": [layers][heads], "sparsity_total", "seconds"}}`
public struct EvalShardLine: Sendable {
  /// The top-level key that marks a shard line (per-example lines never have it).
  public static let key = "spiqa_shard"

  public var shard: Shard
  /// What the shards of one run share: the result line's run keys plus `settings` (`EvalRunner.runIdentity`).
  public var run: JSONObject
  /// Examples in the whole selection, and a digest of their indices in run order.
  public var selected: Int
  public var digest: String
  /// This shard's positions in the selection's run order.
  public var items: Range<Int>
  /// Examples scored here, SQuAD features run, exact-zero counts, seconds.
  public var n: Int
  /// A digest of the per-example lines above it as written (`LinesDigest`; nil in older files).
  public var linesDigest: String?
  public var features: Int
  public var sparsity: SparsityCounter
  public var seconds: Double

  init(
    shard: Shard, run: JSONObject, selected indices: [Int], part: Range<Int>, n: Int, linesDigest: String,
    features: Int, sparsity: SparsityCounter, seconds: Double
  ) {
    self.shard = shard
    self.run = run
    selected = indices.count
    digest = Self.digest(indices)
    items = part
    self.n = n
    self.linesDigest = linesDigest
    self.features = features
    self.sparsity = sparsity
    self.seconds = seconds
  }

  /// FNV-1a (64 bit) over the indices as 8-byte little-endian integers, as 16 hex digits: shards of different
  /// samples of the same size differ here.
  static func digest(_ indices: [Int]) -> String {
    var h = FNV1a()
    for i in indices { withUnsafeBytes(of: Int64(i).littleEndian) { h.add($0) } }
    return h.hex
  }

  /// The line as JSON.
  public var json: JSONObject {
    [
      Self.key: .object([
        "index": .int(shard.index), "count": .int(shard.count), "run": .object(run), "selected": .int(selected),
        "digest": .string(digest), "items": JSONValue([items.lowerBound, items.upperBound]), "n": .int(n),
        "lines_digest": linesDigest.map { .string($0) } ?? .null,
        "features": .int(features), "sparsity_zeros": .array(sparsity.zeros.map { JSONValue($0) }),
        "sparsity_total": .int(sparsity.total), "seconds": .double(seconds),
      ])
    ]
  }

  /// Reads a shard line back.
  /// - Throws: `TasksError.badData` naming `source` when `json` is not a complete shard line.
  public init(json: JSONObject, source: String) throws {
    func bad(_ what: String) -> TasksError {
      TasksError.badData("\(source): the shard line \(what)")
    }
    guard let o = json[Self.key]?.objectValue else { throw bad("is missing") }
    guard let index = o["index"]?.intValue, let count = o["count"]?.intValue,
      let run = o["run"]?.objectValue, let selected = o["selected"]?.intValue,
      let digest = o["digest"]?.stringValue, let items = o["items"]?.intArray, items.count == 2,
      items[0] <= items[1], let n = o["n"]?.intValue, let features = o["features"]?.intValue,
      let zeros = o["sparsity_zeros"]?.arrayValue?.map({ $0.intArray }), let total = o["sparsity_total"]?.intValue,
      let seconds = o["seconds"]?.doubleValue
    else { throw bad("lacks a key or has a wrong type (expected index, count, run, selected, digest, items, n, …)") }
    guard let shard = try? Shard(index: index, count: count) else { throw bad("has shard \(index)/\(count)") }
    guard n >= 0, features >= 0, selected >= 0, seconds.isFinite, seconds >= 0 else {
      throw bad("has a negative count or time (n \(n), features \(features), selected \(selected), seconds \(seconds))")
    }
    self.shard = shard
    self.run = run
    self.selected = selected
    self.digest = digest
    self.items = items[0]..<items[1]
    self.n = n
    linesDigest = o["lines_digest"]?.stringValue
    self.features = features
    guard zeros.allSatisfy({ $0 != nil }) else { throw bad("has non-integer sparsity counts") }
    let counts = zeros.map { $0 ?? [] }
    let rectangular = counts.allSatisfy { $0.count == counts.first?.count }
    guard total >= 0, rectangular, counts.allSatisfy({ $0.allSatisfy { (0...total).contains($0) } }) else {
      throw bad("has sparsity_zeros that are not [layers][heads] counts in 0...sparsity_total (\(total))")
    }
    sparsity = SparsityCounter(zeros: counts, total: total)
    self.seconds = seconds
  }
}

/// FNV-1a (64 bit) over per-example lines as written (UTF-8, each followed by "\n"), as 16 hex digits: the merge
/// finds a line of a shard's file dropped, moved or edited.
public struct LinesDigest: Sendable {
  private var h = FNV1a()

  public init() {}

  public mutating func add(_ line: String) {
    h.add(line.utf8)
    h.add(CollectionOfOne(0x0A))
  }

  public var hex: String { h.hex }
}

/// FNV-1a, 64 bit: the shard line's digests of the selection and of the per-example lines.
struct FNV1a: Sendable {
  private var h: UInt64 = 0xcbf2_9ce4_8422_2325

  mutating func add(_ bytes: some Sequence<UInt8>) {
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
  }

  /// The hash as 16 hex digits.
  var hex: String {
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
