import ArgumentParser
import SpiqaIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Refuses an empty output path, and two output flags that name the same file (64): each output is renamed into
/// place at the end, so the second would silently replace the first (`-o q --report q` would leave only the
/// report). Devices and FIFOs (`/dev/null` twice) are written through and may repeat; standard output (`-`) is
/// checked by each tool.
/// `inputs` are files an output must not replace (spiqa-hist's `--npy` over the stream it reads); `-` is standard
/// input, checked when it is redirected from a file.
/// - Throws: `ValidationError` naming both flags.
public func checkDistinctOutputs(
  _ outputs: [(flag: String, path: String?)], sparing inputs: [(name: String, path: String?)] = []
) throws {
  var seen: [(flag: String, identity: String)] = []
  for (flag, path) in outputs {
    if path == "" { throw ValidationError("\(flag): the path is empty") }  // else it fails only after the run
    guard let path, path != "-", let identity = fileIdentity(path) else { continue }
    if let other = seen.first(where: { $0.identity == identity }) {
      throw ValidationError("\(other.flag) and \(flag) name the same file (\(path)); give them different paths")
    }
    if let input = inputs.first(where: { $0.path.flatMap(inputIdentity) == identity }) {
      throw ValidationError("\(flag) \(path) would replace \(input.name); give another path")
    }
    seen.append((flag, identity))
  }
}

/// `-` or a path that is standard output itself (`AtomicFile.namesStandardOutput`): the tools whose standard output
/// carries a result refuse a second output there.
public func namesStandardOutput(_ path: String?) -> Bool {
  path.map(AtomicFile.namesStandardOutput) ?? false
}

/// Refuses `path` for `flag` (64) when it names standard output, which already carries `what`.
public func refuseStandardOutput(_ flag: String, _ path: String?, carries what: String, advice: String) throws {
  guard namesStandardOutput(path) else { return }
  throw ValidationError("\(flag) \(path ?? "-"): standard output carries \(what); \(advice)")
}

/// What an input would be read as: `-` is standard input when it is a regular file (`< file`), else as an output.
private func inputIdentity(_ path: String) -> String? {
  var st = stat()
  guard path == "-" else { return stat(path, &st) == 0 ? fileIdentity(path) : nil }  // a missing input is a 74 later
  guard fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
  return identity(st)
}

/// A regular file's identity: device and inode.
private func identity(_ st: stat) -> String { "\(st.st_dev):\(st.st_ino)" }

/// What `path` would be written as: device and inode of an existing regular file (through links), else the
/// resolved folder plus the name that a (dangling) link leads to, as `AtomicFile` writes it; nil for a device,
/// FIFO or anything else that is written through.
private func fileIdentity(_ path: String) -> String? {
  var st = stat()
  if stat(path, &st) == 0 {
    guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return identity(st)
  }
  let path = (try? AtomicFile.resolveLinks(path)) ?? path
  let slash = path.lastIndex(of: "/")
  let folder = slash.map { String(path[..<$0]) } ?? "."
  let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
  guard let resolved = realpath(folder.isEmpty ? "/" : folder, nil) else { return "new:" + path }
  defer { free(resolved) }
  return "new:" + String(cString: resolved) + "/" + name
}
