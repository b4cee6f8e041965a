import SpiqaCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors of the PyTorch reader, as `SpiqaModelError`s: one line "<file>: <problem>".
enum PyTorchBinError {
  /// Malformed, unsupported or refused content (exit 65).
  static func badData(_ source: String, _ what: String) -> SpiqaModelError { .badData("\(source): \(what)") }
  /// The file could not be read (exit 74).
  static func io(_ source: String, _ what: String) -> SpiqaModelError { .io("\(source): \(what)") }
}

/// Opens a PyTorch `pytorch_model.bin` (zip format of torch ≥ 1.6, or the legacy pre-1.6 format).
public func openPyTorchBin(path: String) throws -> WeightSource {
  try PyTorchBinFile(path: path)
}

/// The tensors of a `torch.save`d state dict, read without Python.
///
/// The file is memory-mapped; the pickle is run by `PickleMachine` (an allow-list of state-dict objects, never
/// arbitrary code). Contiguous, aligned tensors are views of the mapping; non-contiguous views (transposes,
/// strided slices, stride-0 expansions) are materialised once into C order at load. F32/F16/BF16 tensors are
/// exposed; other dtypes (e.g. the int64 `position_ids` buffer of old checkpoints) are listed in `skippedTensors`.
public final class PyTorchBinFile: WeightSource {
  /// Container format of the file.
  public enum Format: String, Sendable {
    /// `torch.save` default since 1.6: a zip with `<name>/data.pkl` and `<name>/data/<key>` storages.
    case zip
    /// Before 1.6 (`_use_new_zipfile_serialization=False`): consecutive pickles followed by raw storages.
    case legacy
  }

  public let path: String
  public let format: Format
  public let tensorNames: [String]
  /// Tensors present with an element type other than F32/F16/BF16: name → storage class (e.g. `LongStorage`).
  public let skippedTensors: [String: String]
  private let tensors: [String: RawTensor]
  private let mapping: PyTorchBinMapping
  private let copies: [UnsafeMutableRawBufferPointer]

  /// Maps and parses `path`; throws `SpiqaModelError` for I/O errors, malformed files and refused pickles.
  public init(path: String) throws {
    self.path = path
    mapping = try PyTorchBinMapping(path: path)
    let bytes = mapping.bytes
    let loaded: PyTorchBinContents
    if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B {
      format = .zip
      loaded = try PyTorchBinContents(zip: bytes, source: path)
    } else if bytes.count >= 2, bytes[0] == 0x80, bytes[1] == 0x02 {
      format = .legacy
      loaded = try PyTorchBinContents(legacy: bytes, source: path)
    } else if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
      throw PyTorchBinError.badData(
        path, "tar-format checkpoint (torch < 0.4) is not supported; re-save it with a recent torch.save")
    } else {
      throw PyTorchBinError.badData(
        path, "not a PyTorch checkpoint (neither a torch.save zip nor a legacy pickle file)")
    }
    var tensors: [String: RawTensor] = [:]
    var skipped: [String: String] = [:]
    var copies: [UnsafeMutableRawBufferPointer] = []
    do {
      for (name, t) in loaded.tensors {
        guard let dtype = Self.dtype(of: t.storage.typeName) else {
          skipped[name] = t.storage.typeName
          continue
        }
        let storage = try loaded.storage(t.storage)
        tensors[name] = try Self.view(t, dtype: dtype, storage: storage, name: name, source: path, copies: &copies)
        // Each copy is capped, but a 34 kB file of 1,000 stride-0 views over one storage asked for 4 GB: an honest
        // file's views copy at most its storages once or twice over.
        let copied = copies.reduce(0) { $0 + $1.count }
        guard copied <= 2 * bytes.count + (64 << 20) else {
          throw PyTorchBinError.badData(
            path, "its non-contiguous tensor views copy \(copied) bytes from a file of \(bytes.count); too many views")
        }
      }
    } catch {
      for c in copies { c.deallocate() }
      throw error
    }
    self.copies = copies
    self.tensors = tensors
    tensorNames = tensors.keys.sorted()
    skippedTensors = skipped
  }

  deinit {
    for c in copies { c.deallocate() }
  }

  public func rawTensor(_ name: String) -> RawTensor? { tensors[name] }
  public func unusableDType(_ name: String) -> String? { skippedTensors[name] }

  static func dtype(of storageType: String) -> WeightDType? {
    switch storageType {
    case "FloatStorage": .float32
    case "HalfStorage": .float16
    case "BFloat16Storage": .bfloat16
    default: nil
    }
  }

  /// A C-order view of `t`: a slice of the storage when contiguous and aligned, otherwise a gathered copy.
  static func view(
    _ t: PickleTensor, dtype: WeightDType, storage: UnsafeRawBufferPointer, name: String, source: String,
    copies: inout [UnsafeMutableRawBufferPointer]
  ) throws -> RawTensor {
    let es = dtype.byteSize
    let available = min(storage.count / es, t.storage.count)
    func bad(_ what: String) -> SpiqaModelError { PyTorchBinError.badData(source, "tensor '\(name)': \(what)") }
    guard t.shape.allSatisfy({ $0 >= 0 }), t.strides.allSatisfy({ $0 >= 0 }), t.offset >= 0 else {
      throw bad("negative size, stride or offset")
    }
    var count = 1
    var last = t.offset  // highest element index touched
    for (size, stride) in zip(t.shape, t.strides) {
      let (c, o1) = count.multipliedReportingOverflow(by: size)
      let (span, o2) = (size > 0 ? size - 1 : 0).multipliedReportingOverflow(by: stride)
      let (reach, o3) = last.addingReportingOverflow(span)
      guard !o1, !o2, !o3 else {
        throw bad("shape \(t.shape), strides \(t.strides), offset \(t.offset) overflow")
      }
      count = c
      last = reach
    }
    if count == 0 {
      return RawTensor(dtype: dtype, shape: t.shape, data: UnsafeRawBufferPointer(rebasing: storage[0..<0]))
    }
    guard last < available else {
      throw bad(
        "shape \(t.shape), strides \(t.strides), offset \(t.offset) reach element \(last) of a storage of \(available)")
    }
    var contiguous = true
    var expected = 1
    for (size, stride) in zip(t.shape, t.strides).reversed() where size != 1 {
      if stride != expected { contiguous = false }
      expected *= size
    }
    let start = t.offset * es
    if contiguous, let base = storage.baseAddress, Int(bitPattern: base + start) % es == 0 {
      let slice = UnsafeRawBufferPointer(rebasing: storage[start..<(start + count * es)])
      return RawTensor(dtype: dtype, shape: t.shape, data: slice)
    }
    // A view may repeat storage elements (stride 0); cap the copy so a hostile file cannot ask for terabytes.
    guard count <= 16 * max(available, 1 << 16) else {
      throw bad("non-contiguous view of \(count) elements over a storage of \(available) is too large to copy")
    }
    // Gather element by element in C order (an odometer over the shape).
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: count * es, alignment: 16)
    copies.append(out)
    var index = [Int](repeating: 0, count: t.shape.count)
    var src = t.offset
    for i in 0..<count {
      for b in 0..<es { out[i * es + b] = storage[src * es + b] }
      var d = t.shape.count - 1
      while d >= 0 {
        index[d] += 1
        src += t.strides[d]
        if index[d] < t.shape[d] { break }
        src -= t.strides[d] * t.shape[d]
        index[d] = 0
        d -= 1
      }
    }
    return RawTensor(dtype: dtype, shape: t.shape, data: UnsafeRawBufferPointer(out))
  }
}

/// A read-only memory mapping of a whole file, unmapped on deinit.
final class PyTorchBinMapping {
  let bytes: UnsafeRawBufferPointer

  init(path: String) throws {
    let (fd, size) = try SpiqaModelError.mapping { try RegularFile.open(path) }
    defer { close(fd) }
    guard size > 0 else { throw PyTorchBinError.badData(path, "empty file") }
    let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else {
      throw PyTorchBinError.io(path, "cannot map: \(String(cString: strerror(errno)))")
    }
    bytes = UnsafeRawBufferPointer(start: p, count: size)
  }

  deinit {
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
  }
}
