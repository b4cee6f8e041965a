import SpiqaCore
import SpiqaIO

/// spiqa-hist's pass over an attention stream (and optionally a second stream to compare with): decodes each
/// record, keeps the requested layers/heads, feeds `AttentionStatistics`, and writes per-row arrays when asked.
public final class HistRun {
  /// The stream (`-` = standard input) and the compared stream.
  public let input: String
  public let compare: String?
  public let options: StatsOptions
  /// Model layers and heads to keep (nil = all the stream has).
  public let wantLayers: [Int]?
  public let wantHeads: [Int]?
  /// Where to write the per-row arrays (`HistOutputs.writeRows`), if anywhere.
  public let perRowPath: String?

  /// Statistics after `process()`, nil if the stream held no attention record.
  public private(set) var stats: AttentionStatistics?
  /// Model indices of the kept layers and heads.
  public private(set) var layerIndices: [Int] = []
  public private(set) var headIndices: [Int] = []
  /// Name of the input for messages.
  public private(set) var sourceName = "stdin"
  /// Attention records read, and other tensor records skipped (both streams).
  public private(set) var records = 0
  public private(set) var skipped = 0

  /// The per-row output, written by `process()` and renamed into place by `commitRows()`.
  private var rowWriter: RecordWriter?
  private var streamLayers: [Int] = []
  private var streamHeads: [Int] = []
  private var layerPositions: [Int] = []
  private var headPositions: [Int] = []

  public init(
    input: String, compare: String? = nil, options: StatsOptions, layers: [Int]? = nil, heads: [Int]? = nil,
    perRowPath: String? = nil
  ) {
    self.input = input
    self.compare = compare
    self.options = options
    wantLayers = layers
    wantHeads = heads
    self.perRowPath = perRowPath
  }

  /// One decoded attention record, already reduced to the kept layers and heads: `[layers, heads, n, n]`.
  /// A little-endian f4 tensor with every layer and head kept is used in place (no copy).
  struct Decoded {
    var meta: JSONObject
    var values: [Float]
    var raw: NPYArray?
    var n: Int

    /// Calls `body` with the values.
    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
      if let raw {
        return try raw.bytes.withUnsafeBufferPointer { bytes in
          try bytes.withMemoryRebound(to: Float.self) { try body($0) }
        }
      }
      return try values.withUnsafeBufferPointer { try body($0) }
    }
  }

  /// Reads both streams to the end, writing the per-row arrays (committed by `commitRows()`).
  /// - Parameter progress: called after each attention record with the share of the input file read so far
  ///   (nil for a pipe).
  /// - Throws: `SelectionError` for a kept layer or head the stream lacks; `SpiqaIOError` for bad or mismatched
  ///   records (65) and I/O (74); `StatsError`.
  public func process(progress: ((_ inputFraction: Double?) -> Void)? = nil) throws {
    let reader = try RecordReader(path: input)
    sourceName = reader.source
    let other = try compare.map { try RecordReader(path: $0) }
    let rowWriter = try perRowPath.map { try RecordWriter(path: $0, compression: .fast) }
    self.rowWriter = rowWriter
    while var decoded = try nextAttention(reader, skipped: &skipped) {
      var second: Decoded?
      if let other {
        guard let d = try nextAttention(other, skipped: &skipped) else {
          throw SpiqaIOError(
            .badData, source: other.source, recordIndex: other.recordIndex,
            what: "the compared stream ends after \(records) attention records", expected: "one record per record of \(reader.source)")
        }
        try check(decoded, matches: d, in: other)
        second = d
      }
      if stats == nil {
        stats = try AttentionStatistics(options: options, layers: layerIndices.count, heads: headIndices.count)
        if let rowWriter { try rowWriter.writeHeader(HistOutputs.perRowHeader(options: options, input: input)) }
      }
      guard let stats else { break }
      var rows = RowArrays()
      let wantRows = rowWriter != nil
      try withUnsafeMutablePointer(to: &rows) { rowsPointer in
        try decoded.withValues { a in
          try (second ?? Decoded(meta: [:], values: [], raw: nil, n: 0)).withValues { b in
            try stats.add(a, n: decoded.n, compare: second == nil ? nil : b, rows: wantRows ? rowsPointer : nil)
          }
        }
      }
      if let rowWriter {
        try HistOutputs.writeRows(
          rows, meta: decoded.meta, n: decoded.n, layers: layerIndices, heads: headIndices, bins: options.edges.bins,
          to: rowWriter)
      }
      records += 1
      progress?(reader.inputFraction)
      // Give an in-place record's bytes back to the reader so the next record reuses them.
      if var raw = decoded.raw {
        decoded.raw = nil
        reader.recycle(&raw.bytes)
      }
    }
    if let other, try nextAttention(other, skipped: &skipped) != nil {
      throw SpiqaIOError(
        .badData, source: other.source, recordIndex: other.recordIndex,
        what: "the compared stream has more attention records than \(reader.source) (\(records))",
        expected: "the same records in the same order")
    }
  }

  /// Finishes the per-row output and renames it into place (left uncommitted, it is removed): called once the
  /// tables are out, so that a failed run leaves no output behind.
  public func commitRows() throws {
    try rowWriter?.close()
  }

  /// The next attention record of `reader`, decoded and reduced to the kept layers/heads; nil at the end.
  private func nextAttention(_ reader: RecordReader, skipped: inout Int) throws -> Decoded? {
    while let (meta, array) = try reader.nextTensor(ofKind: "attention", skipped: &skipped) {
      func bad(_ what: String, _ expected: String) -> SpiqaIOError { reader.badData(what, expected: expected) }
      let shape = array.shape
      let layout = try reader.attentionLayout(meta, shape)  // as spiqa-quantize and spiqa-eval require
      let layers = layout.layers, heads = layout.heads
      let whole = { self.layerPositions == Array(0..<shape[0]) && self.headPositions == Array(0..<shape[1]) }
      var values: [Float] = []
      let inPlace = array.dtype == .float32 && meta["encoding"] == nil && array.bytes.count == array.count * 4
        && (meta["shape"].map { $0.isNull || $0.intArray == shape } ?? true)
      if !inPlace { values = try reader.decodedAttention(meta, array) }
      if layerIndices.isEmpty {
        try configure(layers: layers, heads: heads, bad: bad)
      } else if layers != streamLayers || heads != streamHeads {
        throw bad(
          "record with layers \(layers) and heads \(heads)",
          "the layers \(streamLayers) and heads \(streamHeads) of the first record")
      }
      if inPlace && whole() { return Decoded(meta: meta, values: [], raw: array, n: shape[2]) }
      if inPlace { values = try reader.decodedAttention(meta, array) }
      return Decoded(
        meta: meta, values: select(values, layers: shape[0], heads: shape[1], n: shape[2]), raw: nil, n: shape[2])
    }
    return nil
  }

  /// Fixes the kept positions from the first record and the wanted layers/heads.
  private func configure(layers: [Int], heads: [Int], bad: (String, String) -> SpiqaIOError) throws {
    streamLayers = layers
    streamHeads = heads
    func positions(_ want: [Int]?, _ have: [Int], _ axis: SelectionError.Axis) throws -> [Int] {
      guard let want else { return Array(have.indices) }
      return try want.map { w in
        guard let i = have.firstIndex(of: w) else {
          throw SelectionError(axis, index: w, available: have, source: sourceName)
        }
        return i
      }
    }
    layerPositions = try positions(wantLayers, layers, .layer)
    headPositions = try positions(wantHeads, heads, .head)
    layerIndices = layerPositions.map { layers[$0] }
    headIndices = headPositions.map { heads[$0] }
  }

  /// Copies the kept (layer, head) blocks, in order, out of `[layers, heads, n, n]`.
  private func select(_ values: [Float], layers: Int, heads: Int, n: Int) -> [Float] {
    if layerPositions == Array(0..<layers) && headPositions == Array(0..<heads) { return values }
    let block = n * n
    var out: [Float] = []
    out.reserveCapacity(layerPositions.count * headPositions.count * block)
    for l in layerPositions {
      for h in headPositions {
        let start = (l * heads + h) * block
        out.append(contentsOf: values[start..<(start + block)])
      }
    }
    return out
  }

  /// The compared record must be the same feature: same n, and same example_id/feature when both carry them.
  private func check(_ a: Decoded, matches b: Decoded, in other: RecordReader) throws {
    let ida = a.meta["example_id"]?.stringValue
    let idb = b.meta["example_id"]?.stringValue
    let fa = a.meta["feature"]?.intValue
    let fb = b.meta["feature"]?.intValue
    if a.n != b.n || (ida != nil && idb != nil && ida != idb) || (fa != nil && fb != nil && fa != fb) {
      throw SpiqaIOError(
        .badData, source: other.source, recordIndex: other.recordIndex - 1,
        what: "record \(idb ?? "?") feature \(fb.map(String.init) ?? "?") with n = \(b.n)",
        expected: "\(ida ?? "?") feature \(fa.map(String.init) ?? "?") with n = \(a.n), as in \(input)")
    }
  }
}
