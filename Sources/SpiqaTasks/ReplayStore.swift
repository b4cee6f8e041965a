import SpiqaCore
import SpiqaModel

/// Identifies one model input: an example of the data set and a feature (window) of it.
public struct RecordKey: Hashable, Sendable, CustomStringConvertible {
  /// `example_id`: SQuAD id, `sst2-<row>` or `text-<line>`.
  public var exampleId: String
  /// `example_index` in the data set.
  public var exampleIndex: Int
  /// 0-based feature of that example (always 0 outside SQuAD).
  public var feature: Int

  public init(exampleId: String, exampleIndex: Int, feature: Int) {
    self.exampleId = exampleId
    self.exampleIndex = exampleIndex
    self.feature = feature
  }

  public var description: String { "example \(exampleId) (index \(exampleIndex)) feature \(feature)" }
}

/// One recorded attention tensor to replay: [layers.count, heads.count, n, n] row-major.
public struct ReplayRecord: Sendable {
  public var exampleId: String?
  public var exampleIndex: Int?
  public var feature: Int
  /// Real tokens.
  public var n: Int
  /// Model layers and heads present, in payload order.
  public var layers: [Int]
  public var heads: [Int]
  /// Token ids, when the record carries them (checked against the model input).
  public var tokenIds: [Int]?
  public var values: [Float]
  /// Where it came from (for messages): "<file>: record <i>".
  public var origin: String
  /// The record's attention-transform keys as written (`threshold`, `method`, `bits`, …, and `upstream`), for
  /// the result line's `replayed`.
  public var transform: JSONObject = [:]

  public init(
    exampleId: String?, exampleIndex: Int?, feature: Int, n: Int, layers: [Int], heads: [Int], tokenIds: [Int]?,
    values: [Float], origin: String
  ) {
    self.exampleId = exampleId
    self.exampleIndex = exampleIndex
    self.feature = feature
    self.n = n
    self.layers = layers
    self.heads = heads
    self.tokenIds = tokenIds
    self.values = values
    self.origin = origin
  }
}

/// Serves replay records by key from a sequential source. Records are read on demand; those read ahead of the one
/// asked for are kept until used, so a stream in evaluation order needs one record of memory, any order works.
/// Restricted to the examples a run selects (`restrict`), it keeps no other record: a shard of a run reads past
/// the other shards' records without holding them.
public final class ReplayStore {
  private let nextRecord: () throws -> ReplayRecord?
  private var byId: [String: [Int: ReplayRecord]] = [:]
  private var byIndex: [Int: [Int: ReplayRecord]] = [:]
  private var exhausted = false
  /// Every (example, feature) read so far: a second record for one would make which one replays arbitrary.
  private var seen: Set<String> = []
  /// Name of the stream (for messages).
  public let source: String
  /// Records consumed so far.
  public private(set) var used = 0
  /// The transform keys of the first record read (`ReplayRecord.transform`); nil before any.
  public private(set) var recordedTransform: JSONObject?
  /// The stream's first header, once the reader has passed it (nil for a source without headers).
  var streamHeader: () -> JSONObject? = { nil }
  /// The examples whose records are kept (by `example_id`, or `example_index` for a record without an id); nil:
  /// every record.
  private var wanted: (ids: Set<String>, indices: Set<Int>)?

  /// - Parameter next: returns the next attention record of the stream, `nil` at its end.
  public init(source: String, next: @escaping () throws -> ReplayRecord?) {
    self.source = source
    self.nextRecord = next
  }

  /// Keeps only the records of these examples from now on (a selection or a shard of it).
  public func restrict(toExampleIds ids: Set<String>, indices: Set<Int>) {
    wanted = (ids, indices)
  }

  /// The transform keys of the stream's first record, reading it if no record was read yet (a shard that
  /// evaluates nothing still says what the stream holds); nil for a stream without records.
  public func streamTransform() throws -> JSONObject? {
    if recordedTransform == nil && !exhausted, let r = try readNext() { keep(r) }
    return recordedTransform
  }

  /// What the stream says it was recorded with: the weights' SHA-256 and Hub id from its header's `provenance`
  /// (spiqa-extract writes them), nil when it does not say. Reads the first record if none was read yet.
  public func streamModel() throws -> JSONObject? {
    _ = try streamTransform()
    guard let p = streamHeader()?["provenance"]?.objectValue, let sha = p["weights_sha256"], !sha.isNull else {
      return nil
    }
    return ["weights_sha256": sha, "model_id": p["model_id"] ?? .null]
  }

  /// The stream header's `featurization` (how spiqa-extract laid out its inputs), nil when it has none. Reads the
  /// first record if none was read yet.
  public func streamFeaturization() throws -> JSONObject? {
    _ = try streamTransform()
    return streamHeader()?["featurization"]?.objectValue
  }

  /// The next record of the stream, checked against the ones before it; nil at its end.
  private func readNext() throws -> ReplayRecord? {
    guard !exhausted, let r = try nextRecord() else {
      exhausted = true
      return nil
    }
    if recordedTransform == nil { recordedTransform = r.transform }
    let identity = (r.exampleId.map { "id " + $0 } ?? "index \(r.exampleIndex ?? -1)") + ", feature \(r.feature)"
    guard seen.insert(identity).inserted else {
      throw TasksError.badData("\(r.origin): a second attention record for \(identity); expected one per feature")
    }
    return r
  }

  /// Buffers `r` until it is asked for, unless the run does not select its example.
  private func keep(_ r: ReplayRecord) {
    if let wanted {
      let selected = r.exampleId.map { wanted.ids.contains($0) } ?? r.exampleIndex.map { wanted.indices.contains($0) } ?? true
      guard selected else { return }
    }
    if let id = r.exampleId { byId[id, default: [:]][r.feature] = r }
    if let i = r.exampleIndex { byIndex[i, default: [:]][r.feature] = r }
  }

  private func take(_ key: RecordKey) -> ReplayRecord? {
    if let r = byId[key.exampleId]?[key.feature] {
      byId[key.exampleId]?[key.feature] = nil
      if let i = r.exampleIndex { byIndex[i]?[r.feature] = nil }
      return r
    }
    if let r = byIndex[key.exampleIndex]?[key.feature], r.exampleId == nil {
      byIndex[key.exampleIndex]?[key.feature] = nil
      return r
    }
    return nil
  }

  /// The record for `key`, matched by example id (or by example index when the record has no id) and feature.
  /// - Throws: `TasksError.badData` when the stream ends without it, or holds two records for one feature.
  public func record(for key: RecordKey) throws -> ReplayRecord {
    if let r = take(key) {
      used += 1
      return r
    }
    while let r = try readNext() {
      keep(r)
      if r.exampleId == key.exampleId || (r.exampleId == nil && r.exampleIndex == key.exampleIndex),
        r.feature == key.feature, let found = take(key)
      {
        used += 1
        return found
      }
    }
    throw TasksError.badData(
      "\(source): no attention record for \(key); expected the stream to cover the selected examples "
        + "(extracted with the same task, data and selection)")
  }

  /// Copy `record`'s layer `layer` into `probs` for batch row `row` (replacing the model's probabilities), after
  /// checking the token count, heads and ids. Pad rows and columns are zeroed; layers the record lacks are left
  /// untouched (the model's own attention).
  /// - Parameter probs: [batch, heads, T, T] row-major.
  /// - Throws: `TasksError.badData` on any mismatch.
  public static func replace(
    _ probs: UnsafeMutableBufferPointer<Float>, dims: AttentionShape, row: Int, layer: Int,
    record: ReplayRecord, key: RecordKey, inputIds: [Int]?
  ) throws {
    let n = dims.lengths[row]
    let t = dims.seqLen
    let where_ = "\(record.origin) (\(key))"
    guard record.n == n else {
      throw TasksError.badData("\(where_): record has n = \(record.n) tokens, the model input has \(n); "
        + "expected the same tokenizer and featurization")
    }
    let count = record.layers.count * record.heads.count * n * n
    guard record.values.count == count else {
      throw TasksError.badData("\(where_): payload has \(record.values.count) values, expected "
        + "[\(record.layers.count), \(record.heads.count), \(n), \(n)] = \(count)")
    }
    if let ids = record.tokenIds, let input = inputIds, ids != Array(input.prefix(n)) {
      throw TasksError.badData("\(where_): token_ids differ from the model input; expected the same tokenizer")
    }
    guard let li = record.layers.firstIndex(of: layer) else { return }
    for (hi, head) in record.heads.enumerated() {
      guard head >= 0, head < dims.heads else {
        throw TasksError.badData("\(where_): head \(head) does not exist (the model has \(dims.heads))")
      }
      let dst = (row * dims.heads + head) * t * t
      let src = (li * record.heads.count + hi) * n * n
      for r in 0..<t {
        for c in 0..<t {
          probs[dst + r * t + c] = (r < n && c < n) ? record.values[src + r * n + c] : 0
        }
      }
    }
  }
}
