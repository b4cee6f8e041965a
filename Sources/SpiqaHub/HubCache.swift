import Foundation

/// One repository's folder in a huggingface_hub-compatible cache, so files downloaded by Python are reused:
///
///     <cache>/models--<org>--<name>/
///       blobs/<etag>                      file contents, named by ETag (sha256 for LFS files, git sha1 otherwise)
///       blobs/<etag>.incomplete           a download in progress (resumable)
///       snapshots/<commit>/<file>         symlink to ../../blobs/<etag>
///       refs/<revision>                   the commit hash a branch/tag pointed to
///       .no_exist/<commit>/<file>         empty marker: the file does not exist at that commit
///     <cache>/.locks/models--<org>--<name>/<etag>.lock   flock held while a blob downloads
struct HubCache {
  let root: String
  let repo: String

  /// `<cache>/models--org--name`.
  var repoDirectory: String { root + "/models--" + repo.replacingOccurrences(of: "/", with: "--") }

  /// `org/name@commit` when `folder` is a snapshot folder of this cache layout
  /// (`…/models--org--name/snapshots/<commit>`), else nil: the Hub identity of a model folder, for provenance.
  static func repoRevision(ofSnapshot folder: String) -> String? {
    let parts = folder.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    guard parts.count >= 3, parts[parts.count - 2] == "snapshots", isCommitHash(parts[parts.count - 1]) else {
      return nil
    }
    let repoDir = parts[parts.count - 3]
    guard repoDir.hasPrefix("models--") else { return nil }
    let repo = repoDir.dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
    guard !repo.isEmpty else { return nil }
    return repo + "@" + parts[parts.count - 1]
  }

  func snapshotDirectory(_ commit: String) -> String { repoDirectory + "/snapshots/" + commit }
  func pointer(_ commit: String, _ file: String) -> String { snapshotDirectory(commit) + "/" + file }
  func blob(_ etag: String) -> String { repoDirectory + "/blobs/" + etag }
  /// huggingface_hub's lock file for a blob: `<cache>/.locks/models--org--name/<etag>.lock`.
  func lock(_ etag: String) -> String {
    root + "/.locks/" + (repoDirectory as NSString).lastPathComponent + "/" + etag + ".lock"
  }
  func noExistMarker(_ commit: String, _ file: String) -> String {
    repoDirectory + "/.no_exist/" + commit + "/" + file
  }

  /// True when `revision` is already a full commit hash.
  static func isCommitHash(_ revision: String) -> Bool {
    revision.count == 40 && revision.allSatisfy { $0.isHexDigit && !$0.isUppercase }
  }

  /// The commit a revision resolves to in the cache (itself for a hash, else `refs/<revision>`).
  func commit(forRevision revision: String) -> String? {
    if Self.isCommitHash(revision) { return revision }
    guard let text = try? String(contentsOfFile: repoDirectory + "/refs/" + revision, encoding: .utf8) else {
      return nil
    }
    let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return Self.isCommitHash(commit) ? commit : nil
  }

  /// True when the snapshot has `file` and it resolves to readable content (a dangling link does not count).
  func has(_ commit: String, _ file: String) -> Bool {
    FileManager.default.isReadableFile(atPath: pointer(commit, file))
  }

  /// True when a previous run recorded that `file` does not exist at `commit`.
  func knownMissing(_ commit: String, _ file: String) -> Bool {
    FileManager.default.fileExists(atPath: noExistMarker(commit, file))
  }

  /// Records `refs/<revision>` → `commit` (write to a temporary file, then rename).
  func writeRef(_ revision: String, commit: String) throws {
    guard !Self.isCommitHash(revision) else { return }
    let path = repoDirectory + "/refs/" + revision
    if (try? String(contentsOfFile: path, encoding: .utf8)) == commit { return }
    try atomicWrite(Data(commit.utf8), to: path)
  }

  /// Records that `file` does not exist at `commit`.
  func markMissing(_ commit: String, _ file: String) {
    let path = noExistMarker(commit, file)
    try? Self.makeDirectory((path as NSString).deletingLastPathComponent)
    _ = FileManager.default.createFile(atPath: path, contents: Data())
  }

  /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, replacing any old link.
  func link(_ commit: String, _ file: String, etag: String) throws {
    let path = pointer(commit, file)
    let dir = (path as NSString).deletingLastPathComponent
    let depth = file.split(separator: "/").count + 1  // snapshots/<commit>/<file...>
    let target = String(repeating: "../", count: depth) + "blobs/" + etag
    let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
    do {
      try Self.makeDirectory(dir)
      try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: target)
    } catch {
      throw HubError.io("cannot create \(path): \(error.localizedDescription)")
    }
    guard rename(temporary, path) == 0 else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw HubError.io("cannot create \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Writes `data` to a temporary sibling of `path` and renames it into place.
  func atomicWrite(_ data: Data, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
    do {
      try Self.makeDirectory(dir)
      try data.write(to: URL(fileURLWithPath: temporary))
    } catch {
      throw HubError.io("cannot write \(temporary): \(error.localizedDescription)")
    }
    guard rename(temporary, path) == 0 else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw HubError.io("cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Creates `path` and its parents; another process creating the same folders at the same time is not an error
  /// (FileManager fails when a folder appears between its check and its mkdir).
  static func makeDirectory(_ path: String) throws {
    var isDirectory: ObjCBool = false
    for attempt in 0..<3 {
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
      do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return
      } catch {
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        if attempt == 2 { throw HubError.io("cannot create \(path): \(error.localizedDescription)") }
      }
    }
  }
}

/// `org/name@commit` for a snapshot folder of the Hub cache (`…/models--org--name/snapshots/<commit>`), else nil.
public func hubRepoRevision(ofSnapshot folder: String) -> String? { HubCache.repoRevision(ofSnapshot: folder) }
