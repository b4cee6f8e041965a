// libFuzzer harness over the record-stream reader (plain and gzip input, NPY headers, JSON metadata).
// Build and run: see docs/development.md ("Fuzzing").

/// Reads every record of `data`; any error thrown is fine, a crash, hang or sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamReader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
  let reader = RecordReader(bytes: bytes, source: "fuzz")
  var records = 0
  do {
    while let record = try reader.next() {
      records += 1
      if case .tensor(let meta, let array) = record {
        _ = try? decodeAttention(meta: meta, array: array)
        _ = try? array.floats()
      }
    }
  } catch let e as SpiqaIOError {
    _ = e.description
  } catch {
    fatalError("unexpected error type \(error)")
  }
  // Single-array decoding shares the NPY header parser.
  _ = try? NPY.decode(bytes)
  return 0
}
