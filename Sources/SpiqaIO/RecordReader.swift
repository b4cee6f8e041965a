import SpiqaCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a record stream lazily, one `StreamRecord` at a time, from a file, standard input or memory.
///
/// The input may be plain NPY records or gzip (one or many members, e.g. `cat a.gz b.gz`), detected by magic.
/// Memory stays bounded by one record plus a few compressed members.
public final class RecordReader {
  /// The file name, `stdin`, or the name given for in-memory input.
  public let source: String
  private let decoder: StreamDecoder
  /// Index of the next NPY array to read (0-based, every array counts).
  public private(set) var recordIndex = 0
  /// Bytes of the uncompressed stream consumed so far.
  public private(set) var byteOffset = 0
  private var stickyError: SpiqaIOError?
  /// Number of tensor records returned so far.
  public private(set) var tensorCount = 0
  /// A finished record's bytes handed back by the caller (`recycle`), reused for the next array of the same size.
  var spare: [UInt8] = []
  /// Largest tensor record accepted, checked from its NPY header before its data is read
  /// (`ResourceLimits.recordBytesVariable`, docs/robustness.md).
  public var maxRecordBytes = ResourceLimits.defaultRecordBytes
  /// Largest metadata (JSON) record accepted, checked the same way.
  public var maxMetadataBytes = ResourceLimits.defaultMetadataBytes
  /// A limit variable that could not be read; thrown by the first `next()`.
  private var limitError: LimitError?
  /// The input's descriptor and size when it is a regular file (for `inputFraction`).
  private var regularFile: (fd: Int32, size: Int)?

  /// Opens a stream; nil or `-` reads standard input.
  ///
  /// - Throws: `SpiqaIOError` (74) if the file cannot be opened.
  public init(path: String?) throws {
    if let path, path != "-" {
      source = path
      let input: FileDescriptorInput
      do {
        input = try FileDescriptorInput(path: path)
      } catch {
        throw error.located(source: path, record: nil, offset: nil)
      }
      decoder = StreamDecoder(input: input)
      regularFile = RecordReader.regularFileSize(input.fd).map { (input.fd, $0) }
    } else {
      source = "stdin"
      decoder = StreamDecoder(input: FileDescriptorInput(fd: 0, closeOnDeinit: false))
      regularFile = RecordReader.regularFileSize(0).map { (0, $0) }
    }
    readLimits()
  }

  /// The share of the input file read so far (0...1), for progress; nil when the input is not a regular file
  /// (a pipe, a terminal). Approximate: the decoder reads ahead of the records returned.
  public var inputFraction: Double? {
    guard let (fd, size) = regularFile, size > 0 else { return nil }
    let at = lseek(fd, 0, SEEK_CUR)
    guard at >= 0 else { return nil }
    return min(1, Double(at) / Double(size))
  }

  private static func regularFileSize(_ fd: Int32) -> Int? {
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(st.st_size)
  }

  /// Reads a stream held in memory (tests, fuzzing).
  ///
  /// - Parameter maxRead: largest piece handed over per read, to behave like a pipe with short reads.
  public init(bytes: [UInt8], source: String = "memory", maxRead: Int = Int.max) {
    self.source = source
    decoder = StreamDecoder(input: MemoryInput(bytes, maxRead: maxRead))
    readLimits()
  }

  /// The limits from the environment (`ResourceLimits`).
  private func readLimits() {
    do {
      maxRecordBytes = try ResourceLimits.value(ResourceLimits.recordBytesVariable, default: maxRecordBytes)
      maxMetadataBytes = try ResourceLimits.value(ResourceLimits.metadataBytesVariable, default: maxMetadataBytes)
    } catch let e as LimitError {
      limitError = e
    } catch {}
  }

  /// The next header or tensor, or nil at the clean end of the stream.
  ///
  /// - Throws: `SpiqaIOError` for malformed, truncated or inconsistent input; the error repeats on later calls.
  public func next() throws -> StreamRecord? {
    if let stickyError { throw stickyError }
    if let limitError { throw limitError }
    do {
      guard let first = try nextArray(metadata: true) else { return nil }
      let metaIndex = recordIndex - 1
      let metaOffset = byteOffset - first.bytes.count
      let meta = try parseMeta(first, index: metaIndex, offset: metaOffset)
      if meta["kind"]?.stringValue == "stream" { return .header(meta) }
      guard let tensor = try nextArray() else {
        throw SpiqaIOError(
          .badData, source: source, recordIndex: recordIndex, byteOffset: byteOffset,
          what: "the stream ends after a metadata record of kind \(meta["kind"]?.jsonText.prefix(60) ?? "null")",
          expected: "its tensor record")
      }
      tensorCount += 1
      return .tensor(meta: meta, array: tensor)
    } catch let e as SpiqaIOError {
      stickyError = e
      throw e
    }
  }

  /// The next tensor record whose metadata `kind` is `kind`; tensors of other kinds are counted in `skipped`,
  /// headers pass silently. Nil at the end of the stream.
  public func nextTensor(ofKind kind: String, skipped: inout Int) throws -> (meta: JSONObject, array: NPYArray)? {
    while let record = try next() {
      guard case .tensor(let meta, let array) = record else { continue }
      guard meta["kind"]?.stringValue == kind else {
        skipped += 1
        continue
      }
      return (meta, array)
    }
    return nil
  }

  /// A bad-data error (65) located at the tensor record `next` returned last.
  public func badData(_ what: String, expected: String) -> SpiqaIOError {
    SpiqaIOError(.badData, source: source, recordIndex: recordIndex - 1, what: what, expected: expected)
  }

  /// Hands back the bytes of a record the caller is done with; the next array of exactly that size is read into
  /// them instead of fresh memory (a fresh 40 MB buffer costs the kernel zeroing 10,000 pages each record).
  /// `bytes` is left empty. Only useful when `bytes` is the sole reference (otherwise it is copied on write).
  public func recycle(_ bytes: inout [UInt8]) {
    spare = []
    swap(&spare, &bytes)
  }

  /// Calls `body` with every record until the end of the stream.
  ///
  /// - Throws: the first `SpiqaIOError` of the stream, or what `body` throws.
  public func forEach(_ body: (StreamRecord) throws -> Void) throws {
    while let r = try next() { try body(r) }
  }

  private func parseMeta(_ a: NPYArray, index: Int, offset: Int) throws -> JSONObject {
    func bad(_ what: String, _ expected: String) -> SpiqaIOError {
      SpiqaIOError(.badData, source: source, recordIndex: index, byteOffset: offset, what: what, expected: expected)
    }
    guard a.dtype == .uint8, a.shape.count == 1 else {
      throw bad(
        "a \(a.dtype.descr) array of shape \(a.shape) where a metadata record belongs",
        "a 1-D |u1 array of JSON (stream header or metadata) before each tensor")
    }
    let v: JSONValue
    do { v = try JSONValue(parsing: a.bytes) } catch {
      throw bad("metadata record is not valid JSON (\(error.what) at byte \(error.offset) of the JSON)", "UTF-8 JSON text")
    }
    guard let o = v.objectValue else { throw bad("metadata JSON is not an object", "a JSON object") }
    guard o["spiqa"]?.intValue == spiqaStreamVersion else {
      throw bad("metadata JSON has spiqa = \(o["spiqa"]?.jsonText ?? "nothing")", "\"spiqa\": 1")
    }
    guard let kind = o["kind"]?.stringValue, !kind.isEmpty else {
      throw bad("metadata JSON has no \"kind\" string", "\"kind\": \"stream\", \"attention\", ...")
    }
    return o
  }

  /// Reads from the uncompressed stream, advancing `byteOffset`.
  func decoderRead(_ dst: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int {
    do {
      let n = try decoder.read(into: dst)
      byteOffset += n
      return n
    } catch var f {
      if f.offset == nil { f.offset = byteOffset }
      throw f
    }
  }

  var byteOffsetForErrors: Int { byteOffset }

  /// Reads the next NPY array of the stream (a metadata record when `metadata`), or nil at its clean end.
  func nextArray(metadata: Bool = false) throws -> NPYArray? {
    do {
      let a = try readArray(limit: metadata ? maxMetadataBytes : maxRecordBytes, metadata: metadata)
      if a != nil { recordIndex += 1 }
      return a
    } catch let f {
      throw f.located(source: source, record: recordIndex, offset: f.offset ?? byteOffset)
    }
  }
}
