import SpiqaCore

/// What an attention record's tensor and metadata say about its layout: `[layers, heads, n, n]` with every size at
/// least 1, and its `n`, `layers` and `heads` metadata, where present, agreeing with the tensor (docs/stream-format.md
/// §3). spiqa-hist, spiqa-quantize and spiqa-eval `--replay` hold every record to the same rules, so that what one
/// tool writes the others read.
public struct AttentionLayout: Equatable, Sendable {
  /// The model layer of each tensor layer (`layers` metadata, default 0, 1, ...).
  public var layers: [Int]
  /// The model head of each tensor head (`heads` metadata, default 0, 1, ...).
  public var heads: [Int]
  /// Sequence length: the tensor's last two sizes.
  public var n: Int

  /// Why a record's layout is refused: what was found and what was expected, for the caller to locate.
  public struct Problem: Error, Sendable {
    public var what: String
    public var expected: String
  }

  /// - Throws: `Problem` for another tensor rank, an empty or non-square block, `n` other than the tensor's, or
  ///   `layers`/`heads` that are not one distinct index ≥ 0 per tensor layer/head.
  public init(meta: JSONObject, shape: [Int]) throws(Problem) {
    guard shape.count == 4, shape[2] == shape[3], shape.allSatisfy({ $0 >= 1 }) else {
      throw Problem(what: "attention tensor of shape \(shape)", expected: "[layers, heads, n, n] with every size ≥ 1")
    }
    try Self.checkN(meta, shape[2], shape: shape)
    layers = try Self.indices(meta, "layers", count: shape[0], shape: shape, each: "layer")
    heads = try Self.indices(meta, "heads", count: shape[1], shape: shape, each: "head")
    n = shape[2]
  }

  /// The `n` metadata, where present, is `n` (a hidden_states record's too).
  public static func checkN(_ meta: JSONObject, _ n: Int, shape: [Int]) throws(Problem) {
    if let v = meta["n"], !v.isNull, v.intValue != n {
      throw Problem(what: "record metadata \"n\" = \(v.jsonText.prefix(60)) for a tensor of shape \(shape)",
                    expected: "n = \(n)")
    }
  }

  /// The `key` metadata list (default 0..<count): `count` distinct model indices ≥ 0, one per `each` of the tensor.
  public static func indices(_ meta: JSONObject, _ key: String, count: Int, shape: [Int], each: String)
    throws(Problem) -> [Int]
  {
    guard let v = meta[key], !v.isNull else { return Array(0..<count) }
    let list = v.arrayValue?.compactMap(\.intValue) ?? []
    let valid = v.arrayValue?.count == count && list.count == count && list.allSatisfy { $0 >= 0 }
    guard valid, Set(list).count == count else {
      throw Problem(
        what: "record metadata \"\(key)\" = \(v.jsonText.prefix(60)) for a tensor of shape \(shape)",
        expected: "\(count) distinct model indices ≥ 0, one per \(each) of the tensor")
    }
    return list
  }
}

extension RecordReader {
  /// The layout of the attention record just read, or `SpiqaIOError` (65) naming this stream and the record.
  public func attentionLayout(_ meta: JSONObject, _ shape: [Int]) throws -> AttentionLayout {
    do {
      return try AttentionLayout(meta: meta, shape: shape)
    } catch {
      throw badData(error.what, expected: error.expected)
    }
  }

  /// `decodeAttention` of the record just read, its errors naming this stream and the record.
  public func decodedAttention(_ meta: JSONObject, _ array: NPYArray) throws -> [Float] {
    do {
      return try decodeAttention(meta: meta, array: array)
    } catch var e as SpiqaIOError {
      e.source = source
      e.recordIndex = recordIndex - 1
      throw e
    }
  }
}
