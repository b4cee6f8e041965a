import SpiqaCore
import SpiqaIO

/// What spiqa-quantize applies to every attention record of a stream, and how it writes the result.
public struct QuantizeSettings: Sendable {
  /// Payload of the attention records written.
  public enum Output: String, CaseIterable, Sendable {
    /// float32 or float16 values.
    case f32, f16
    /// u1/u2 indices into the `levels` listed in the record's metadata (needs a quantizer).
    case codes
  }

  /// Pruning and quantization; the scope of a data-dependent quantizer must be `record` or `example` (a stream has
  /// no batches), and hidden states are not transformed offline. A layer/head selection names model indices,
  /// matched against each record's `layers`/`heads` metadata lists (default: 0, 1, ... in order).
  public var transform: AttentionTransform
  public var output: Output
  /// Also compute the Jensen–Shannon distance between original and transformed rows (into the report).
  public var js: Bool
  /// Who quantized (`{"tool", "version", "commit", "input"}`, from the command line): the header's
  /// `quantize.provenance` and the report's `provenance`; empty = none.
  public var provenance: JSONObject = [:]

  public init(transform: AttentionTransform, output: Output = .f32, js: Bool = false) {
    self.transform = transform
    self.output = output
    self.js = js
  }

  /// The scopes a stream offers.
  public static let scopes: [QuantScope] = [.record, .example]

  /// - Throws: `QuantError` (usage) for settings the stream quantizer cannot honour.
  public func validate() throws {
    try transform.validate()
    guard !transform.takesScopeStatistics || Self.scopes.contains(transform.scope) else {
      throw QuantError(
        "scope \(transform.scope.rawValue) does not exist in a stream; expected one of: "
          + Self.scopes.map(\.rawValue).joined(separator: ", "), isUsage: true)
    }
    guard transform.hsThreshold == 0, transform.hsBits == 0 else {
      throw QuantError("a stream is quantized offline without hidden states", isUsage: true)
    }
    if output == .codes && transform.quantizer == nil {
      throw QuantError("codes output needs a quantizer", isUsage: true)
    }
  }
}

/// One decoded attention record waiting to be written: [layers, heads, n, n] floats (any rank ≥ 1; the first
/// axis is the layer axis when the rank is 4, the last axis is the row).
struct PendingRecord {
  var meta: JSONObject
  var shape: [Int]
  var original: [Float]
  /// The values being pruned/quantized in place (a stable buffer, so one scope can span several records).
  let values: FloatBuffer
  /// Levels used by the data-dependent quantizer, per layer (nil for element-wise methods).
  var layerLevels: [[Float]] = []

  var layers: Int { shape.count == 4 ? shape[0] : 1 }
  var rowLength: Int { shape.last ?? 1 }
}

/// A heap buffer of floats with a stable address.
final class FloatBuffer {
  let p: UnsafeMutableBufferPointer<Float>
  init(_ values: [Float]) {
    p = .allocate(capacity: values.count)
    _ = p.initialize(from: values)
  }
  deinit { p.deallocate() }
  var count: Int { p.count }
}

/// spiqa-quantize's stream pass: streams records from `reader` to `writer`, pruning and quantizing attention
/// records and copying everything else. Records of one example are buffered when a data-dependent method runs
/// with the `example` scope (consecutive records with the same `example_id` form one scope).
public final class QuantizeStream {
  public let settings: QuantizeSettings
  let reader: RecordReader
  let writer: RecordWriter
  /// Counts, errors and distances over the records written so far.
  public private(set) var report = QuantReport()
  private var pending: [PendingRecord] = []
  /// Bytes held by `pending` (original and transformed floats).
  private var pendingBytes = 0
  /// Largest example buffered for the example scope (`ResourceLimits.exampleBytesVariable`); read by `run()`.
  public var maxExampleBytes = ResourceLimits.defaultExampleBytes
  private var headerWritten = false

  public init(settings: QuantizeSettings, reader: RecordReader, writer: RecordWriter) {
    self.settings = settings
    self.reader = reader
    self.writer = writer
  }

  private var transform: AttentionTransform { settings.transform }

  private var buffersExamples: Bool { transform.scope == .example && transform.takesScopeStatistics }

  /// Processes the whole input (the caller closes the writer).
  /// - Parameter progress: called after each tensor record read with the share of the input file read so far
  ///   (nil for a pipe).
  /// - Throws: `QuantError` for invalid settings or data that defeats the quantizer; `SpiqaIOError` (65/74).
  public func run(progress: ((_ inputFraction: Double?) -> Void)? = nil) throws {
    try settings.validate()
    maxExampleBytes = try ResourceLimits.value(ResourceLimits.exampleBytesVariable, default: maxExampleBytes)
    while let record = try reader.next() {
      switch record {
      case .header(let h):
        try flush()
        try writeHeader(h)
      case .tensor(let meta, let array):
        defer { progress?(reader.inputFraction) }  // tensors are what the progress line counts
        guard meta["kind"]?.stringValue == "attention" else {
          try flush()
          try ensureHeader()
          try writer.write(meta: meta, array: array)
          continue
        }
        _ = try reader.attentionLayout(meta, array.shape)  // as spiqa-hist and spiqa-eval require
        let values = try reader.decodedAttention(meta, array)
        let rec = PendingRecord(meta: meta, shape: array.shape, original: values, values: FloatBuffer(values))
        if buffersExamples, meta["example_id"] != nil {
          // Records without an id stand alone.
          if let last = pending.last, last.meta["example_id"] != meta["example_id"] { try flush() }
          pendingBytes += 16 * values.count  // see ResourceLimits.exampleBytesVariable
          guard pendingBytes <= maxExampleBytes else {
            throw reader.badData(
              "example \(meta["example_id"]?.jsonText ?? "?") needs more than \(maxExampleBytes) bytes buffered "
                + "for statistics over the whole example",
              expected: "a smaller example, the record scope, or a larger \(ResourceLimits.exampleBytesVariable)")
          }
          pending.append(rec)
        } else {
          try flush()
          pending = [rec]
          try flush()
        }
      }
    }
    try flush()
    try ensureHeader()
  }

  private func ensureHeader() throws {
    if !headerWritten { try writeHeader(["producer": "spiqa-quantize"]) }
  }

  private func writeHeader(_ h: JSONObject) throws {
    var out = h
    var q = TransformMetadata.quantizeHeader.object(transform)
    q["output_dtype"] = .string(settings.output.rawValue)
    if !settings.provenance.isEmpty { q["provenance"] = .object(settings.provenance) }
    out["quantize"] = .object(q)
    out["dtype"] = .string(settings.output == .f16 ? "f2" : settings.output == .f32 ? "f4" : "u1")
    try writer.writeHeader(out)
    headerWritten = true
  }

  /// Prunes and quantizes the pending records (jointly per layer for the example scope) and writes them.
  private func flush() throws {
    guard !pending.isEmpty else { return }
    defer {
      pending.removeAll(keepingCapacity: true)
      pendingBytes = 0
    }
    if transform.hasSelection {
      try applySelection()
    } else if transform.quantizer == nil {
      for r in pending { try transform.transformAttention([r.values.p], rowLength: r.rowLength) }
    } else {
      let layers = pending[0].layers
      for r in pending where r.layers != layers || r.values.count % layers != 0 {
        throw SpiqaIOError(.badData, source: reader.source,
                           what: "records of example \(r.meta["example_id"]?.jsonText ?? "?") with different layer counts",
                           expected: "the same [layers, heads, n, n] layout within one example")
      }
      for layer in 0..<layers { try applyLayer(layer, layers: layers) }
    }
    for r in pending { try write(r) }
  }

  /// Transforms this layer's slice of every pending record as one scope.
  private func applyLayer(_ layer: Int, layers: Int) throws {
    let parts = pending.map { r in
      let per = r.values.count / layers
      return UnsafeMutableBufferPointer(rebasing: r.values.p[(layer * per)..<((layer + 1) * per)])
    }
    if let stats = try transform.transformAttention(parts, rowLength: pending[0].rowLength) {
      for i in pending.indices { pending[i].layerLevels.append(stats.levels) }
    }
  }

  /// With a layer/head selection: transforms the selected heads of the selected layers (by model index), each
  /// layer position of the pending records as one scope over their selected heads only; the rest passes through.
  private func applySelection() throws {
    let t = transform
    var layers = -1
    var blocks: [(layerIdx: [Int], headIdx: [Int], heads: Int, tt: Int)] = []
    for r in pending {
      guard r.shape.count == 4 else {
        throw SpiqaIOError(
          .badData, source: reader.source, what: "attention record of shape \(r.shape) with a layer/head selection",
          expected: "[layers, heads, n, n]")
      }
      if layers < 0 { layers = r.shape[0] }
      guard r.shape[0] == layers else {
        throw SpiqaIOError(.badData, source: reader.source,
                           what: "records of example \(r.meta["example_id"]?.jsonText ?? "?") with different layer counts",
                           expected: "the same [layers, heads, n, n] layout within one example")
      }
      let layout = try reader.attentionLayout(r.meta, r.shape)  // (checked when read)
      let li = layout.layers, hi = layout.heads
      if let mask = t.mask,
        let bad = li.first(where: { $0 >= mask.count }) ?? hi.first(where: { $0 >= (mask.first?.count ?? 0) })
      {
        throw QuantError(
          "the head mask is [\(mask.count), \(mask.first?.count ?? 0)]; the record holds layers \(li) and heads \(hi) (index \(bad) is outside it)",
          isUsage: true, selection: .mask)
      }
      if let bad = t.layers?.sorted().first(where: { !li.contains($0) }) {
        throw QuantError(
          "selected layer \(bad) is not among the record's layers \(li)", isUsage: true, selection: .layers)
      }
      if let bad = t.heads?.sorted().first(where: { !hi.contains($0) }) {
        throw QuantError(
          "selected head \(bad) is not among the record's heads \(hi)", isUsage: true, selection: .heads)
      }
      blocks.append((li, hi, r.shape[1], r.shape[2] * r.shape[3]))
    }
    for layer in 0..<layers {
      var parts: [UnsafeMutableBufferPointer<Float>] = []
      var users: [Int] = []
      for (i, r) in pending.enumerated() where t.transforms(layer: blocks[i].layerIdx[layer]) {
        let b = blocks[i]
        users.append(i)
        for (h, model) in b.headIdx.enumerated() where t.transforms(layer: b.layerIdx[layer], head: model) {
          let start = (layer * b.heads + h) * b.tt
          parts.append(UnsafeMutableBufferPointer(rebasing: r.values.p[start..<(start + b.tt)]))
        }
      }
      guard !parts.isEmpty else { continue }
      if let stats = try t.transformAttention(parts, rowLength: pending[0].rowLength) {
        for i in users { pending[i].layerLevels.append(stats.levels) }
      }
    }
  }

  /// The record's metadata: what it had been through goes to `upstream`, this transform replaces it.
  private func outputMeta(_ r: PendingRecord) -> JSONObject {
    var m = r.meta
    if TransformMetadata.isTransformed(m) { m["upstream"] = .object(TransformMetadata.recordedKeys(m)) }
    TransformMetadata.quantizedRecord.write(transform, into: &m)
    m["encoding"] = nil
    m["levels"] = nil
    m["shape"] = JSONValue(r.shape)
    return m
  }

  private func write(_ r: PendingRecord) throws {
    var m = outputMeta(r)
    try ensureHeader()
    r.original.withUnsafeBufferPointer { o in
      report.add(original: o, quantized: UnsafeBufferPointer(r.values.p), rowLength: r.rowLength, js: settings.js)
    }
    let encoded = encode(r)
    if let (table, codes) = encoded {
      var used = [Bool](repeating: false, count: table.count)
      for c in codes { used[Int(c)] = true }
      let levels = table.levels
      for (i, u) in used.enumerated() where u { report.distinct?.insert(levels[i].bitPattern) }
    } else {
      report.distinct = nil
    }
    switch settings.output {
    case .f32, .f16:
      let dtype: NPYDType = settings.output == .f32 ? .float32 : .float16
      m["dtype"] = .string(dtype.rawValue)
      try writer.write(meta: m, floats: UnsafeBufferPointer(r.values.p), shape: r.shape, dtype: dtype)
    case .codes:
      guard let (table, codes) = encoded else {
        let q = transform.quantizer.map { "\($0.method.rawValue), \($0.bits) bits" } ?? "no quantizer"
        throw QuantError("codes output needs a quantizer with at most 65536 levels (got \(q))", isUsage: true)
      }
      let array = CodeTable.codeArray(codes, count: table.count, shape: r.shape)
      m["dtype"] = .string(array.dtype.rawValue)
      m["encoding"] = "codes"
      m["levels"] = JSONValue(table.levels.map { Double($0) })
      try writer.write(meta: m, array: array)
    }
  }

  /// Codes of a record: the method's level set (element-wise) or the union of the per-layer levels
  /// (data-dependent), plus any value not in it (NaN inputs, values outside [0, 1]), and each value's code.
  /// nil without a method or beyond 65536 distinct values.
  private func encode(_ r: PendingRecord) -> (table: CodeTable, codes: [UInt16])? {
    guard let q = transform.quantizer else { return nil }
    return CodeTable.encode(r.values.p, levels: q.levels ?? Array(Set(r.layerLevels.flatMap { $0 })).sorted())
  }
}
