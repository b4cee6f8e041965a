import SpiqaCore

/// Writes a record stream: a header record, then metadata + tensor record pairs, as NPY arrays, plain or gzip.
///
/// A file is written as `<path>.tmp-XXXXXX` and renamed into place by `close()`; without `close()` the
/// temporary file is removed when the writer goes away. gzip output is a series of self-contained members of
/// about `chunkSize` uncompressed bytes each, compressed on worker threads.
public final class RecordWriter {
  /// Uncompressed bytes per gzip member (and the plain-output buffer size).
  public static let chunkSize = 1 << 20

  /// The output: file name or `stdout`.
  public var destination: String { file.name }
  /// The compression in use.
  public let compression: StreamCompression
  private let file: AtomicFile
  private let gzip: GzipMemberWriter?
  private var chunk: ByteBlock
  private var headerWritten = false
  private var closed = false
  private var failed = false
  /// Elements still expected by the tensor `beginFloats` started (nil: none started), and its dtype.
  private var pendingFloats: Int?
  private var pendingDType = NPYDType.float32
  /// Number of NPY arrays written so far.
  public private(set) var recordIndex = 0
  /// Uncompressed bytes written so far.
  public private(set) var byteOffset = 0

  /// Opens the output; nil or `-` writes to standard output.
  ///
  /// - Throws: `SpiqaIOError` (74) if the file cannot be created (checked now, before any work); 64 for a terminal.
  public init(path: String?, compression: StreamCompression = .fast) throws {
    file = try AtomicFile(path: path)
    if file.isTerminal {
      file.discard()
      throw SpiqaIOError(.usage, source: file.name, what: "is a terminal", expected: "a file or a pipe for a binary stream")
    }
    self.compression = compression
    gzip = compression.level == 0 ? nil : GzipMemberWriter(sink: file, compression: compression, chunkSize: RecordWriter.chunkSize)
    chunk = ByteBlock(capacity: RecordWriter.chunkSize)
  }

  /// Writes a stream header: `header` plus `"spiqa": 1` and `"kind": "stream"`.
  public func writeHeader(_ header: JSONObject) throws {
    var h = header
    h["spiqa"] = .int(spiqaStreamVersion)
    h["kind"] = "stream"
    try writeArray(JSONValue.object(h).metaArray)
    headerWritten = true
  }

  /// Starts without a header: the output continues a stream whose header another writer wrote (shard I > 0 of a
  /// sharded run, docs/scaling.md), so that `cat` of the parts is the whole stream.
  public func continueStream() {
    headerWritten = true
  }

  /// Writes a metadata record and its tensor.
  ///
  /// `meta` must have a `kind` other than `"stream"`; `"spiqa": 1` is added, and `shape`/`dtype` are filled
  /// from the array when absent.
  public func write(meta: JSONObject, array: NPYArray) throws {
    let expected = array.count * array.dtype.itemSize
    guard array.count != Int.max, array.bytes.count == expected else {
      throw misuse("tensor has \(array.bytes.count) bytes for shape \(array.shape) of \(array.dtype.rawValue)", "\(expected) bytes")
    }
    try writeMeta(meta, shape: array.shape, dtype: array.dtype)
    try array.bytes.withUnsafeBytes { raw in
      try writeRaw(NPY.headerBytes(dtype: array.dtype, shape: array.shape))
      try writeRaw(raw)
    }
    recordIndex += 1
  }

  /// Writes a metadata record and a float tensor straight from `floats`, as f4, or f2 when `dtype == .float16`.
  ///
  /// - Parameters:
  ///   - floats: the elements in C order; their count must equal the product of `shape`.
  ///   - dtype: `.float32` or `.float16`.
  public func write(meta: JSONObject, floats: UnsafeBufferPointer<Float>, shape: [Int], dtype: NPYDType) throws {
    try beginFloats(meta: meta, shape: shape, dtype: dtype)
    guard floats.count == pendingFloats else {
      throw misuse("\(floats.count) floats for shape \(shape)", "as many floats as the shape holds")
    }
    try appendFloats(floats)
    try endFloats()
  }

  /// Starts a metadata record and a float tensor whose elements come later, in C order, from `appendFloats`
  /// (for tensors produced piece by piece, e.g. an attention record layer by layer from the forward pass);
  /// `endFloats` completes it. No other record may be written in between.
  public func beginFloats(meta: JSONObject, shape: [Int], dtype: NPYDType) throws {
    guard dtype == .float32 || dtype == .float16 else {
      throw misuse("a float tensor with dtype \(dtype.rawValue)", "f4 or f2")
    }
    guard pendingFloats == nil else { throw misuse("a record begun inside another", "endFloats() first") }
    guard let (count, _) = NPY.sizes(shape: shape, itemSize: dtype.itemSize) else {
      throw misuse("tensor shape \(shape)", "a shape whose size fits in memory")
    }
    try writeMeta(meta, shape: shape, dtype: dtype)
    try writeRaw(NPY.headerBytes(dtype: dtype, shape: shape))
    pendingFloats = count
    pendingDType = dtype
  }

  /// The next elements of the tensor begun by `beginFloats`, converted to its dtype.
  public func appendFloats(_ floats: UnsafeBufferPointer<Float>) throws {
    guard let pending = pendingFloats else { throw misuse("appendFloats() without beginFloats()", "beginFloats() first") }
    guard floats.count <= pending else {
      throw misuse("\(floats.count) more floats with \(pending) left in the tensor", "at most as many as the shape holds")
    }
    pendingFloats = pending - floats.count
    if pendingDType == .float32 {
      try writeRaw(UnsafeRawBufferPointer(floats))
      return
    }
    var i = 0
    while i < floats.count {
      if chunk.free < 2 { try flushChunk() }
      let n = min(floats.count - i, chunk.free / 2)
      convertToHalf(UnsafeBufferPointer(rebasing: floats[i..<(i + n)]), into: chunk.freeSpace)
      chunk.count += 2 * n
      byteOffset += 2 * n
      i += n
    }
  }

  /// Completes the tensor begun by `beginFloats`; every element must have been appended.
  public func endFloats() throws {
    guard let pending = pendingFloats else { throw misuse("endFloats() without beginFloats()", "beginFloats() first") }
    guard pending == 0 else { throw misuse("a tensor ended \(pending) floats short", "every element appended") }
    pendingFloats = nil
    recordIndex += 1
  }

  /// Flushes everything, waits for compression, and renames the file into place.
  ///
  /// - Throws: `SpiqaIOError` (74 for I/O errors).
  public func close() throws {
    guard !closed else { return }
    closed = true
    if let pending = pendingFloats {
      // A tensor cut short would leave a truncated record: the output is not committed.
      file.discard()
      throw misuse("close() with \(pending) floats of a begun tensor missing", "endFloats() before close()")
    }
    do {
      try flushChunk()
      try gzip?.drain()
      try file.commit()
    } catch {
      file.discard()
      throw error
    }
  }

  // MARK: - Internals

  private func misuse(_ what: String, _ expected: String) -> SpiqaIOError {
    SpiqaIOError(.other, source: file.name, recordIndex: recordIndex, byteOffset: byteOffset, what: what, expected: expected)
  }

  private func writeMeta(_ meta: JSONObject, shape: [Int], dtype: NPYDType) throws {
    guard pendingFloats == nil else { throw misuse("a record written inside a begun tensor", "endFloats() first") }
    guard headerWritten else { throw misuse("a tensor before the stream header", "writeHeader(_:) first") }
    guard let kind = meta["kind"]?.stringValue, kind != "stream", !kind.isEmpty else {
      throw misuse("metadata without a \"kind\" (or kind \"stream\")", "a kind such as \"attention\"")
    }
    var m = meta
    m["spiqa"] = .int(spiqaStreamVersion)
    if m["shape"] == nil { m["shape"] = JSONValue(shape) }
    if m["dtype"] == nil { m["dtype"] = .string(dtype.rawValue) }
    try writeArray(JSONValue.object(m).metaArray)
  }

  private func writeArray(_ a: NPYArray) throws {
    try writeRaw(NPY.headerBytes(dtype: a.dtype, shape: a.shape))
    try a.bytes.withUnsafeBytes { try writeRaw($0) }
    recordIndex += 1
  }

  private func writeRaw(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try writeRaw($0) }
  }

  /// Appends uncompressed stream bytes, emitting full chunks.
  private func writeRaw(_ src: UnsafeRawBufferPointer) throws {
    guard !closed else { throw misuse("write after close()", "no writes after close()") }
    guard !failed else { throw misuse("write after a failed write", "no writes after an error") }
    do {
      var rest = src
      if gzip == nil && rest.count >= RecordWriter.chunkSize {
        try flushChunk()  // large plain payload: write it directly
        try file.write(rest)
        byteOffset += rest.count
        return
      }
      while !rest.isEmpty {
        let n = chunk.append(rest)
        byteOffset += n
        rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        if chunk.free == 0 { try flushChunk() }
      }
    } catch {
      failed = true
      throw error
    }
  }

  private func flushChunk() throws {
    guard chunk.count > 0 else { return }
    if let gzip {
      let full = chunk
      chunk = gzip.freshChunk()
      try gzip.submit(full)
    } else {
      try file.write(chunk.bytes)
      chunk.count = 0
    }
  }
}
