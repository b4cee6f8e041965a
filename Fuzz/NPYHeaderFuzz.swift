// libFuzzer harness over the NPY header dict parser (the Python-literal reader and numpy's key, shape, bool and
// descr rules), fed directly rather than through a record. Build and run: see docs/development.md ("Fuzzing").

/// Parses the input as header text (UTF-8, as a 3.0 header; invalid bytes become U+FFFD); any `DecodeFailure`
/// is fine, a crash, hang or sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPYHeader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = start.map { UnsafeBufferPointer(start: $0, count: count) } ?? UnsafeBufferPointer(start: nil, count: 0)
  let text = String(decoding: bytes, as: UTF8.self)
  _ = PythonLiteral.parse(text)
  do {
    let (dtype, _, _, shape) = try NPY.parseHeaderDict(text)
    _ = (dtype, shape)
  } catch {
    _ = error.what
  }
  return 0
}
