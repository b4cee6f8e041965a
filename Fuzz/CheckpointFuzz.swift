// libFuzzer harness over the checkpoint readers: safetensors, the PyTorch zip (zip32/zip64) and legacy formats,
// and the pickle machine they run. Build and run: see docs/development.md ("Fuzzing").
#if canImport(Glibc)
import Glibc
#endif

/// The input as a file (both readers map a path), on tmpfs when there is one; one file per fuzzing process.
private let scratchPath: String = {
  let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
  return "\(dir)/spiqa-fuzz-checkpoint-\(getpid())"
}()

/// Opens the input with each reader and converts every tensor it exposes; any `SpiqaModelError` is fine, a crash,
/// hang or sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  guard fd >= 0 else { fatalError("cannot create \(scratchPath)") }
  if let start, count > 0, write(fd, start, count) != count { fatalError("cannot write \(scratchPath)") }
  close(fd)
  for open in [{ try SafetensorsFile(path: $0) as WeightSource }, { try PyTorchBinFile(path: $0) as WeightSource }] {
    do {
      let source = try open(scratchPath)
      for name in source.tensorNames {
        _ = source.rawTensor(name)?.floats()
      }
    } catch let e as SpiqaModelError {
      _ = e.description
    } catch {
      fatalError("unexpected error type \(error)")
    }
  }
  return 0
}
