import SpiqaCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `model.safetensors` file, memory-mapped read-only; tensors are views into the mapping (no copy).
///
/// Layout: 8-byte little-endian header length `n`, `n` bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
/// then the data block that the offsets index.
public final class SafetensorsFile: WeightSource {
  /// The largest JSON header read (the safetensors library refuses larger ones too).
  public static let maxHeaderBytes: UInt64 = 100_000_000
  /// The file path (for messages).
  public let path: String
  private let base: UnsafeMutableRawPointer
  private let size: Int
  private var entries: [String: RawTensor] = [:]
  /// Tensors present with a dtype the model does not read (e.g. I64 `position_ids`), name → dtype.
  public private(set) var otherDTypes: [String: String] = [:]

  public let tensorNames: [String]

  /// Maps `path` and parses its header. Throws on a missing file, a truncated or malformed header,
  /// offsets outside the file, or a byte count that does not match dtype × shape.
  public init(path: String) throws {
    self.path = path
    let (fd, size) = try SpiqaModelError.mapping { try RegularFile.open(path) }
    defer { close(fd) }
    guard size >= 8 else {
      throw SpiqaModelError.badData("\(path): \(size) bytes; a safetensors file starts with an 8-byte header length")
    }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw SpiqaModelError.io("\(path): mmap failed (\(String(cString: strerror(errno))))")
    }
    self.base = mapped
    self.size = size
    do {
      tensorNames = try Self.parse(base: UnsafeRawPointer(mapped), size: size, path: path,
                                   entries: &entries, other: &otherDTypes)
    } catch {
      munmap(mapped, size)
      throw error
    }
  }

  deinit { munmap(base, size) }

  public func rawTensor(_ name: String) -> RawTensor? { entries[name] }
  public func unusableDType(_ name: String) -> String? { otherDTypes[name] }

  private static func parse(
    base: UnsafeRawPointer, size: Int, path: String,
    entries: inout [String: RawTensor], other: inout [String: String]
  ) throws -> [String] {
    var n: UInt64 = 0
    withUnsafeMutableBytes(of: &n) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: 8)) }
    n = UInt64(littleEndian: n)
    guard n <= UInt64(size - 8) else {
      throw SpiqaModelError.badData(
        "\(path): header length \(n) exceeds the file (\(size) bytes); the file is truncated or not safetensors")
    }
    // The safetensors library's own cap: a real header is a few hundred bytes per tensor, and parsing one costs
    // about 13 times its size in memory.
    guard n <= SafetensorsFile.maxHeaderBytes else {
      throw SpiqaModelError.badData(
        "\(path): header length \(n) is more than \(SafetensorsFile.maxHeaderBytes) bytes; not a safetensors header")
    }
    // Trailing spaces (the padding writers add to align the data) are JSON whitespace.
    let header = try? JSONValue(parsing: UnsafeRawBufferPointer(start: base + 8, count: Int(n)))
    guard let obj = header?.objectValue else {
      throw SpiqaModelError.badData("\(path): the safetensors header (byte 8, \(n) bytes) is not a JSON object")
    }
    let dataStart = 8 + Int(n)
    let dataSize = size - dataStart
    var names: [String] = []
    for (name, value) in obj where name != "__metadata__" {
      // Integral floats (`2.0`) count as integers in shapes and offsets, as they did with Foundation's reader.
      guard let info = value.objectValue, let dtypeName = info["dtype"]?.stringValue,
            let shape = info["shape"]?.intArray, let offsets = info["data_offsets"]?.intArray, offsets.count == 2
      else {
        throw SpiqaModelError.badData("\(path): header entry \"\(name)\" lacks dtype, shape or data_offsets")
      }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, begin <= end, end <= dataSize, shape.allSatisfy({ $0 >= 0 }) else {
        throw SpiqaModelError.badData(
          "\(path): tensor \"\(name)\" has offsets [\(begin), \(end)] outside the data block (\(dataSize) bytes)")
      }
      names.append(name)
      guard let dtype = WeightDType(rawValue: dtypeName) else {
        other[name] = dtypeName
        continue
      }
      // Overflow-safe: a crafted shape must not trap; its byte count has to match the offsets exactly.
      var bytes: Int? = dtype.byteSize
      for d in shape {
        guard let b = bytes else { break }
        let (p, overflow) = b.multipliedReportingOverflow(by: d)
        bytes = overflow ? nil : p
      }
      guard let bytes, bytes == end - begin else {
        let needs = bytes.map { "needs \($0)" } ?? "overflows"
        throw SpiqaModelError.badData(
          "\(path): tensor \"\(name)\" is \(end - begin) bytes; \(dtypeName) \(shape) \(needs)")
      }
      entries[name] = RawTensor(
        dtype: dtype, shape: shape, data: UnsafeRawBufferPointer(start: base + dataStart + begin, count: end - begin))
    }
    return names.sorted()
  }
}
