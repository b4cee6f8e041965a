import CStreamKernels
/// One n-dimensional array as stored in an NPY record: element type, shape and raw little-endian C-order bytes.
public struct NPYArray: Sendable, Equatable {
  /// Element type.
  public var dtype: NPYDType
  /// Shape; `[]` is a scalar (one element).
  public var shape: [Int]
  /// The elements, little-endian, C (row-major) order; `count * dtype.itemSize` bytes.
  public var bytes: [UInt8]

  /// Number of elements: the product of `shape` (1 for a scalar).
  public var count: Int {
    var n = 1
    for d in shape {
      let (m, o) = n.multipliedReportingOverflow(by: d)
      n = o ? Int.max : m
    }
    return n
  }

  /// An array over raw little-endian C-order bytes (`bytes.count` should be `count * dtype.itemSize`).
  public init(dtype: NPYDType, shape: [Int], bytes: [UInt8]) {
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
  }

  /// A float32 array. `values.count` should equal the product of `shape`.
  public init(float32 values: [Float], shape: [Int]) {
    self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
  }

  /// A float16 array, each value rounded to the nearest Float16.
  public init(float16 values: [Float], shape: [Int]) {
    var out = [UInt8](repeating: 0, count: values.count * 2)
    out.withUnsafeMutableBytes { raw in
      values.withUnsafeBufferPointer { convertToHalf($0, into: raw) }
    }
    self.init(dtype: .float16, shape: shape, bytes: out)
  }

  /// A uint8 array.
  public init(uint8 values: [UInt8], shape: [Int]) {
    self.init(dtype: .uint8, shape: shape, bytes: values)
  }

  /// An int64 array.
  public init(int64 values: [Int64], shape: [Int]) {
    self.init(dtype: .int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
  }

  /// The elements converted to Float (bool → 0/1; 64-bit integers and doubles rounded).
  ///
  /// - Throws: `SpiqaIOError` if the byte count does not match the shape.
  public func floats() throws -> [Float] {
    let n = count
    guard n != Int.max, bytes.count == n * dtype.itemSize else {
      throw SpiqaIOError(
        .badData, source: "array", what: "\(bytes.count) bytes for shape \(shape) of \(dtype.rawValue)",
        expected: "\(n == Int.max ? "a shape whose size fits in memory" : "\(n) × \(dtype.itemSize) bytes")")
    }
    return [Float](unsafeUninitializedCapacity: n) { out, initialized in
      bytes.withUnsafeBytes { raw in
        switch dtype {
        case .float32:
          UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(4 * n)]))
        case .float16:
          convertFromHalf(raw, into: out)
        case .float64: load(raw, Double.self, out) { Float($0) }
        case .int8: load(raw, Int8.self, out) { Float($0) }
        case .int16: load(raw, Int16.self, out) { Float($0) }
        case .int32: load(raw, Int32.self, out) { Float($0) }
        case .int64: load(raw, Int64.self, out) { Float($0) }
        case .uint8: load(raw, UInt8.self, out) { Float($0) }
        case .uint16: load(raw, UInt16.self, out) { Float($0) }
        case .uint32: load(raw, UInt32.self, out) { Float($0) }
        case .uint64: load(raw, UInt64.self, out) { Float($0) }
        case .bool: load(raw, UInt8.self, out) { $0 == 0 ? 0 : 1 }
        }
      }
      initialized = n
    }
  }
}

@inline(__always)
private func load<T>(
  _ raw: UnsafeRawBufferPointer, _: T.Type, _ out: UnsafeMutableBufferPointer<Float>, _ f: (T) -> Float
) {
  let size = MemoryLayout<T>.size
  for i in 0..<out.count {
    out[i] = f(raw.loadUnaligned(fromByteOffset: i * size, as: T.self))
  }
}

/// Float16 bit pattern → Float for all 65,536 patterns.
let halfToFloatTable: [Float] = (0..<65536).map { Float(Float16(bitPattern: UInt16($0))) }

/// Converts little-endian Float16 bytes to Floats (`out.count` elements).
func convertFromHalf(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
  halfToFloatTable.withUnsafeBufferPointer { table in
    for i in 0..<out.count {
      out[i] = table[Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))]
    }
  }
}

/// Converts Floats to little-endian Float16 bytes (round to nearest even), writing `2 * values.count` bytes.
func convertToHalf(_ values: UnsafeBufferPointer<Float>, into raw: UnsafeMutableRawBufferPointer) {
  // CStreamKernels: F16C when the CPU has it; Swift's Float16(x) is a libgcc call per element on baseline x86-64.
  guard let src = values.baseAddress, let dst = raw.baseAddress, values.count > 0 else { return }
  precondition(raw.count >= 2 * values.count)
  spiqa_f32_to_f16(src, dst, values.count)
}

extension NPYArray {
  /// Reverses the byte order of each element in place (big-endian ↔ little-endian).
  static func swapBytes(_ bytes: inout [UInt8], itemSize: Int) {
    guard itemSize > 1 else { return }
    bytes.withUnsafeMutableBufferPointer { b in
      var i = 0
      while i + itemSize <= b.count {
        var lo = i
        var hi = i + itemSize - 1
        while lo < hi {
          b.swapAt(lo, hi)
          lo += 1
          hi -= 1
        }
        i += itemSize
      }
    }
  }

  /// Reorders Fortran-order (column-major) element bytes into C order for `shape`.
  static func fortranToC(_ bytes: [UInt8], shape: [Int], itemSize: Int) -> [UInt8] {
    let n = bytes.count / max(itemSize, 1)
    guard shape.count > 1, n > 1 else { return bytes }
    // Fortran strides (in elements): stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
    var fStride = [Int](repeating: 1, count: shape.count)
    for k in 1..<shape.count { fStride[k] = fStride[k - 1] * shape[k - 1] }
    var out = [UInt8](repeating: 0, count: bytes.count)
    var index = [Int](repeating: 0, count: shape.count)
    var src = 0
    bytes.withUnsafeBytes { s in
      out.withUnsafeMutableBytes { d in
        for dst in 0..<n {
          for b in 0..<itemSize { d[dst * itemSize + b] = s[src * itemSize + b] }
          // Advance the C-order odometer (last axis fastest) and the matching Fortran offset.
          var k = shape.count - 1
          while k >= 0 {
            index[k] += 1
            src += fStride[k]
            if index[k] < shape[k] { break }
            src -= fStride[k] * shape[k]
            index[k] = 0
            k -= 1
          }
        }
      }
    }
    return out
  }
}

/// Encoding and decoding of single NPY arrays.
public enum NPY {
  /// One NPY array as numpy.save writes it: header, then the data bytes.
  public static func encode(_ array: NPYArray) -> [UInt8] {
    var out = headerBytes(dtype: array.dtype, shape: array.shape)
    out += array.bytes
    return out
  }

  /// Decodes one complete NPY array (any version, byte order and memory order numpy writes).
  ///
  /// - Throws: `SpiqaIOError` (65) for malformed data or trailing bytes.
  public static func decode(_ bytes: [UInt8], source: String = "array") throws -> NPYArray {
    let reader = RecordReader(bytes: bytes, source: source)
    guard let array = try reader.nextArray() else {
      throw SpiqaIOError(.badData, source: source, recordIndex: 0, byteOffset: 0, what: "empty input", expected: "an NPY array")
    }
    if try reader.nextArray() != nil {
      throw SpiqaIOError(.badData, source: source, recordIndex: 1, what: "more than one array", expected: "a single NPY array")
    }
    return array
  }
}
