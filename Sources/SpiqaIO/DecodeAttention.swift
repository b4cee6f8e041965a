import SpiqaCore

/// Decodes a tensor record to Floats: f2/f4/f8 payloads, or `"encoding": "codes"` (u1/u2 indices into the
/// meta's `"levels"` list).
///
/// - Returns: `array.count` values in C order (shape `array.shape`, e.g. [layers, heads, n, n]).
/// - Throws: `SpiqaIOError` (65) for other dtypes, a missing/invalid `levels` list, a code outside it, or a
///   `shape` in the metadata that does not match the array.
public func decodeAttention(meta: JSONObject, array: NPYArray) throws -> [Float] {
  func bad(_ what: String, _ expected: String) -> SpiqaIOError {
    SpiqaIOError(.badData, source: meta["example_id"]?.stringValue.map { "record \($0)" } ?? "tensor", what: what, expected: expected)
  }
  if let s = meta["shape"], !s.isNull {
    guard let shape = s.intArray, shape == array.shape else {
      throw bad("metadata shape \(s.jsonText) but the tensor has shape \(array.shape)", "matching shapes")
    }
  }
  let n = array.count
  guard n != Int.max, array.bytes.count == n * array.dtype.itemSize else {
    throw bad("\(array.bytes.count) bytes for shape \(array.shape) of \(array.dtype.rawValue)", "\(n) × \(array.dtype.itemSize) bytes")
  }
  if meta["encoding"]?.stringValue == "codes" {
    guard let levels = meta["levels"]?.doubleArray, !levels.isEmpty else {
      throw bad("codes record without a \"levels\" list of numbers", "\"levels\": [...] in the metadata")
    }
    let table = levels.map { Float($0) }
    switch array.dtype {
    case .uint8, .uint16:
      let width = array.dtype.itemSize
      var badCode: Int?
      let out = [Float](unsafeUninitializedCapacity: n) { buf, initialized in
        array.bytes.withUnsafeBytes { raw in
          for i in 0..<n {
            let code = width == 1 ? Int(raw[i]) : Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            if code < table.count {
              buf[i] = table[code]
            } else {
              buf[i] = 0
              if badCode == nil { badCode = code }
            }
          }
        }
        initialized = n
      }
      if let badCode { throw bad("code \(badCode) with only \(table.count) levels", "codes below \(table.count)") }
      return out
    default:
      throw bad("codes record of dtype \(array.dtype.rawValue)", "u1 or u2 codes")
    }
  }
  switch array.dtype {
  case .float16, .float32, .float64: return try array.floats()
  default:
    let kind = meta["kind"]?.stringValue.map { String($0.prefix(40)) } ?? "attention"  // hidden_states decode here too
    throw bad("\(kind) tensor of dtype \(array.dtype.rawValue) without \"encoding\": \"codes\"", "f2, f4, f8 or codes")
  }
}
