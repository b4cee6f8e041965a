import SpiqaCore
import SpiqaIO
import SpiqaQuant

extension ReplayStore {
  /// A store over a SpiqaIO record stream (file, `-` = stdin; plain or gzip). Headers and non-attention records
  /// (e.g. `hidden_states`) are skipped; payloads may be f2/f4/f8 or `"encoding": "codes"`.
  /// - Throws: `SpiqaIOError` (74) when the file cannot be opened.
  public convenience init(streamPath path: String) throws {
    let reader = try RecordReader(path: path)
    self.init(reader: reader)
  }

  /// A store over an open reader.
  public convenience init(reader: RecordReader) {
    let source = reader.source
    let header = StreamHeaderBox()
    self.init(source: source) {
      while let item = try reader.next() {
        if case .header(let h) = item, header.first == nil { header.first = h }
        guard case .tensor(let meta, let array) = item, meta["kind"]?.stringValue == "attention" else { continue }
        return try ReplayRecord(meta: meta, array: array, origin: "\(source): tensor \(reader.tensorCount - 1)")
      }
      return nil
    }
    streamHeader = { header.first }
  }
}

/// The first header of a replayed stream, filled in as the reader passes it.
private final class StreamHeaderBox {
  var first: JSONObject?
}

extension ReplayRecord {
  /// Parse an attention record (metadata keys of docs/stream-format.md §3: `example_id`, `example_index`, `feature`, `n`,
  /// `layers`, `heads`, optional `token_ids`; tensor [layers, heads, n, n]).
  /// - Throws: `TasksError.badData` for missing keys or a shape that disagrees with them.
  public init(meta: JSONObject, array: NPYArray, origin: String) throws {
    let id = meta["example_id"]?.stringValue
    let index = meta["example_index"]?.intValue
    guard id != nil || index != nil else {
      throw TasksError.badData("\(origin): attention record without \"example_id\" or \"example_index\"")
    }
    let layout: AttentionLayout
    do {
      layout = try AttentionLayout(meta: meta, shape: array.shape)  // as spiqa-hist and spiqa-quantize require
    } catch {
      throw TasksError.badData("\(origin): \(error.what); expected \(error.expected)")
    }
    let (n, layers, heads) = (layout.n, layout.layers, layout.heads)
    let values: [Float]
    do {
      values = try decodeAttention(meta: meta, array: array)
    } catch {
      throw TasksError.badData("\(origin): \(error)")
    }
    self.init(
      exampleId: id, exampleIndex: index, feature: meta["feature"]?.intValue ?? 0, n: n, layers: layers, heads: heads,
      tokenIds: meta["token_ids"]?.intArray, values: values, origin: origin)
    transform = TransformMetadata.recordedKeys(meta)
    if let upstream = meta["upstream"] { transform["upstream"] = upstream }
  }
}
