import SpiqaCore
import SpiqaIO
import SpiqaQuant

/// Output payload of spiqa-quantize.
enum OutputDType: String, CaseIterable {
  case f32, f16, codes
}

/// Where data-dependent quantizers take their statistics.
enum Scope: String, CaseIterable {
  /// One layer of one record (one feature).
  case record
  /// One layer over all consecutive records with the same `example_id` (≈ the reference's batch).
  case example
}

/// The settings one run applies to every attention record.
struct QuantizeSettings {
  var threshold: Double
  var quantizer: AttentionQuantizer?
  var scope: Scope
  var output: OutputDType
  var js: Bool
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

/// Streams records from `reader` to `writer`: attention records are pruned and quantized, everything else is
/// copied. Records of one example are buffered when a data-dependent method runs with `--scope example`.
final class QuantizeStream {
  let settings: QuantizeSettings
  let reader: RecordReader
  let writer: RecordWriter
  var report = QuantReport()
  private var pending: [PendingRecord] = []
  private var headerWritten = false

  init(settings: QuantizeSettings, reader: RecordReader, writer: RecordWriter) {
    self.settings = settings
    self.reader = reader
    self.writer = writer
  }

  private var buffersExamples: Bool {
    settings.scope == .example && settings.quantizer.map { !$0.method.isElementwise } == true
  }

  /// Processes the whole input. Throws `SpiqaIOError` (65/74) or `QuantError`.
  func run() throws {
    while let record = try reader.next() {
      switch record {
      case .header(let h):
        try flush()
        try writeHeader(h)
      case .tensor(let meta, let array):
        guard meta["kind"]?.stringValue == "attention" else {
          try flush()
          try ensureHeader()
          try writer.write(meta: meta, array: array)
          continue
        }
        let values = try decodeAttention(meta: meta, array: array)
        let rec = PendingRecord(meta: meta, shape: array.shape, original: values, values: FloatBuffer(values))
        if buffersExamples, meta["example_id"] != nil {
          // Consecutive records with the same example_id form one scope (records without an id stand alone).
          if let last = pending.last, last.meta["example_id"] != meta["example_id"] { try flush() }
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
    var q: JSONObject = ["threshold": .double(settings.threshold), "output_dtype": .string(settings.output.rawValue)]
    if let quantizer = settings.quantizer {
      q["method"] = .string(quantizer.method.rawValue)
      q["bits"] = .int(quantizer.bits)
      q["variant"] = .string(quantizer.variant.rawValue)
      q["scope"] = quantizer.method.isElementwise ? .null : .string(settings.scope.rawValue)
    }
    out["quantize"] = .object(q)
    out["dtype"] = .string(settings.output == .f16 ? "f2" : settings.output == .f32 ? "f4" : "u1")
    try writer.writeHeader(out)
    headerWritten = true
  }

  /// Prunes and quantizes the pending records (jointly per layer for the example scope) and writes them.
  private func flush() throws {
    guard !pending.isEmpty else { return }
    defer { pending.removeAll(keepingCapacity: true) }
    let t = Float(settings.threshold)
    if settings.threshold > 0 {
      for r in pending { prune(r.values.p, threshold: t) }
    }
    if let q = settings.quantizer {
      let layers = pending[0].layers
      for r in pending where r.layers != layers || r.values.count % layers != 0 {
        throw SpiqaIOError(.badData, source: reader.source,
                           what: "records of example \(r.meta["example_id"]?.jsonText ?? "?") with different layer counts",
                           expected: "the same [layers, heads, n, n] layout within one example")
      }
      for layer in 0..<layers {
        try applyLayer(q, layer: layer, layers: layers)
      }
    }
    for r in pending { try write(r) }
  }

  private func applyLayer(_ q: AttentionQuantizer, layer: Int, layers: Int) throws {
    // Collect this layer's slice of every pending record as one scope.
    var ranges: [Range<Int>] = []
    for r in pending {
      let per = r.values.count / layers
      ranges.append((layer * per)..<((layer + 1) * per))
    }
    let rowLength = pending[0].rowLength
    let parts = zip(pending, ranges).map { UnsafeMutableBufferPointer(rebasing: $0.values.p[$1]) }
    if let stats = try q.apply(parts, rowLength: rowLength) {
      for i in pending.indices { pending[i].layerLevels.append(stats.levels) }
    }
  }

  private func outputMeta(_ r: PendingRecord) -> JSONObject {
    var m = r.meta
    let upstreamApplied = (m["threshold"]?.doubleValue ?? 0) > 0 || (m["method"].map { !$0.isNull } ?? false)
    if upstreamApplied {
      var u: JSONObject = [:]
      for k in ["threshold", "method", "bits", "variant", "scope"] { if let v = m[k] { u[k] = v } }
      m["upstream"] = .object(u)
    }
    m["threshold"] = .double(settings.threshold)
    if let q = settings.quantizer {
      m["method"] = .string(q.method.rawValue)
      m["bits"] = .int(q.bits)
      m["variant"] = .string(q.variant.rawValue)
      m["scope"] = q.method.isElementwise ? .null : .string(settings.scope.rawValue)
    } else {
      m["method"] = .null
      m["bits"] = .null
      m["scope"] = .null
    }
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
        throw QuantError("--output-dtype codes needs a quantizer with at most 65536 levels (got \(settings.quantizer.map { "\($0.method.rawValue), \($0.bits) bits" } ?? "no --method"))", isUsage: true)
      }
      let array = codeArray(codes, count: table.count, shape: r.shape)
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
    guard let q = settings.quantizer else { return nil }
    var table = CodeTable(sorted: q.levels ?? Array(Set(r.layerLevels.flatMap { $0 })).sorted())
    var codes = [UInt16](repeating: 0, count: r.values.count)
    for (i, v) in r.values.p.enumerated() {
      if let c = table.code(v) {
        codes[i] = UInt16(truncatingIfNeeded: c)
      } else {
        if table.count >= 65536 { return nil }
        codes[i] = UInt16(table.count)
        table.addExtra(v)
      }
    }
    return (table, codes)
  }
}

/// Output levels for `codes`: a sorted level list (binary search) plus extra values in a dictionary.
struct CodeTable {
  let sorted: [Float]
  private(set) var extras: [UInt32: Int] = [:]
  private(set) var extraList: [Float] = []

  init(sorted: [Float]) { self.sorted = sorted }

  var count: Int { sorted.count + extraList.count }
  /// The level of each code.
  var levels: [Float] { sorted + extraList }

  mutating func addExtra(_ v: Float) {
    extras[v.bitPattern] = count
    extraList.append(v)
  }

  /// The code of `v` (bit-exact), or nil.
  @inline(__always)
  func code(_ v: Float) -> Int? {
    var lo = 0, hi = sorted.count
    while lo < hi {
      let mid = (lo + hi) >> 1
      if sorted[mid] < v { lo = mid + 1 } else { hi = mid }
    }
    if lo < sorted.count && sorted[lo].bitPattern == v.bitPattern { return lo }
    return extras.isEmpty ? nil : extras[v.bitPattern]
  }
}

/// Codes as u1 (≤ 256 levels) or u2 (little-endian) NPY array.
func codeArray(_ codes: [UInt16], count: Int, shape: [Int]) -> NPYArray {
  if count <= 256 { return NPYArray(uint8: codes.map { UInt8(truncatingIfNeeded: $0) }, shape: shape) }
  var bytes = [UInt8](repeating: 0, count: codes.count * 2)
  for (i, c) in codes.enumerated() {
    bytes[2 * i] = UInt8(c & 0xFF)
    bytes[2 * i + 1] = UInt8(c >> 8)
  }
  return NPYArray(dtype: .uint16, shape: shape, bytes: bytes)
}
