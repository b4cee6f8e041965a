import SpiqaCore
import SpiqaHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `provenance` object of every result line and stream header: which build made it, from which checkpoint and
/// data, identified by content (docs/cli.md, "Result keys").
///
/// `{"tool", "version", "commit", "model_path", "model_id", "weights_file", "weights_sha256", "data_path",
/// "data_sha256"}`; the keys are always present, `null` where a value does not apply (`model_id` of a folder
/// outside the Hub cache, the hashes of data read from a pipe).
public enum Provenance {
  /// - Parameters:
  ///   - modelFolder: the local folder the model was loaded from.
  ///   - weightsFile: the weights file actually opened.
  ///   - dataPath: the data file, nil or `-` for standard input.
  public static func object(tool: String, modelFolder: String, weightsFile: String, dataPath: String?) -> JSONObject {
    let folder = absolute(modelFolder)
    let data = dataPath.flatMap { $0 == "-" ? nil : $0 }
    return [
      "tool": .string(tool), "version": .string(SpiqaVersion.number), "commit": .string(SpiqaVersion.commit),
      "model_path": .string(folder), "model_id": hubRepoRevision(ofSnapshot: folder).map { .string($0) } ?? .null,
      "weights_file": .string(lastComponent(weightsFile)), "weights_sha256": sha256(weightsFile).map { .string($0) } ?? .null,
      "data_path": data.map { .string(absolute($0)) } ?? .null,
      "data_sha256": data.flatMap(sha256).map { .string($0) } ?? .null,
    ]
  }

  /// `{"tool", "version", "commit", "input"}` for a tool that reads a stream (spiqa-quantize, spiqa-hist): the
  /// stream's own header carries the model and data provenance of the run that made it. `input` is the path as
  /// given (absolute when it is a file), `"-"` for standard input; streams are not hashed (they can be large and
  /// piped).
  public static func object(tool: String, input: String?) -> JSONObject {
    let path = input.flatMap { $0 == "-" ? nil : $0 }
    return [
      "tool": .string(tool), "version": .string(SpiqaVersion.number), "commit": .string(SpiqaVersion.commit),
      "input": .string(path.map(absolute) ?? "-"),
    ]
  }

  /// The sha256 of a regular file's bytes; nil for anything else (a pipe would be consumed) or when unreadable.
  /// A file of the Hub cache is a symlink to `blobs/<sha256>`, a name the download was verified against
  /// (docs/checkpoints.md), so it is taken rather than read again.
  public static func sha256(_ path: String) -> String? {
    let target = absolute(path)
    let name = lastComponent(target)
    if name.count == 64, name.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
      target.hasSuffix("/blobs/" + name)
    {
      return name
    }
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return FileDigest.ofFile(path, kind: .sha256)
  }

  /// The canonical absolute path (symlinks resolved); `path` as given when it cannot be resolved.
  static func absolute(_ path: String) -> String {
    guard let p = realpath(path, nil) else { return path }
    defer { free(p) }
    return String(cString: p)
  }

  private static func lastComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }
}
