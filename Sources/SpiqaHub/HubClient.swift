import Foundation

/// A local folder for a model argument: an existing path as is; a missing path (`/…`, `./…`, `~…`) or a name
/// without `/` is an I/O error (74); anything else is taken as a Hugging Face Hub repo id (`org/name[@revision]`)
/// and downloaded into the huggingface_hub cache (see `HubConfiguration.fromEnvironment`; `HF_HUB_OFFLINE=1`:
/// cache only). `quiet` silences the download progress (warnings still go to stderr).
public func resolveModelDirectory(_ spec: String, quiet: Bool = false) throws -> String {
  if FileManager.default.fileExists(atPath: spec) { return spec }
  if spec.hasPrefix("/") || spec.hasPrefix(".") || spec.hasPrefix("~") || !spec.contains("/") {
    throw HubError.io("\(spec): no such model folder; expected a Hugging Face checkpoint folder or a Hub id (org/name)")
  }
  var configuration = try HubConfiguration.fromEnvironment()
  if quiet { configuration.showProgress = false }
  return try HubClient(configuration: configuration).resolveModelDirectory(spec)
}

/// Downloads model snapshots from a Hugging Face Hub endpoint into a huggingface_hub-compatible cache.
///
/// Per file: a HEAD on `{endpoint}/{repo}/resolve/{revision}/{file}` (redirects not followed, relative ones
/// re-requested) gives the commit (`X-Repo-Commit`), the blob name (`X-Linked-Etag` or `ETag`) and the size;
/// the blob is then fetched (302 to a CDN followed) into `blobs/<etag>.incomplete`, resumed with a Range request
/// if a partial file exists, and renamed to `blobs/<etag>` only once complete. Files already in the snapshot are
/// not requested again; the first file fixes the commit and every other file is requested at that commit.
public final class HubClient {
  public let configuration: HubConfiguration
  let http: HubHTTP

  /// Files a model folder needs: the config, tokenizer files (each optional; WordPiece or byte-level BPE), then
  /// the first weights file present.
  static let configFile = "config.json"
  static let tokenizerFiles = [
    "vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
  ]
  static let weightFiles = ["model.safetensors", "pytorch_model.bin"]

  public init(configuration: HubConfiguration) {
    self.configuration = configuration
    http = HubHTTP(timeouts: configuration.timeouts)
  }

  /// Where warnings and notes go (one line each, without the newline); standard error unless replaced.
  public var report: (String) -> Void = { FileHandle.standardError.write(Data("spiqa: \($0)\n".utf8)) }
  private var warnedPlainHTTP = false

  /// A local folder for `spec`: the folder itself if it exists, else the downloaded (or cached) Hub snapshot.
  public func resolveModelDirectory(_ spec: String) throws -> String {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw HubError.usage("model '\(spec)' is a file; expected a model folder or a Hub repo id")
      }
      return spec
    }
    let pathLike = spec.hasPrefix("/") || spec.hasPrefix(".") || spec.hasPrefix("~") || spec.hasSuffix("/")
    guard !pathLike, let model = HubModelSpec(spec) else {
      throw HubError.usage("model '\(spec)': no such folder, and not a Hugging Face repo id (org/name[@revision])")
    }
    return try snapshot(repo: model.repo, revision: model.revision)
  }

  /// The snapshot folder of `repo` at `revision`, downloading what is missing (or only looking in the cache when
  /// offline).
  public func snapshot(repo: String, revision: String = "main") throws -> String {
    http.startClock()
    let cache = HubCache(root: configuration.cacheDirectory, repo: repo)
    if configuration.offline {
      if let dir = completeSnapshot(cache, revision) { return dir }
      throw HubError.io(
        "HF_HUB_OFFLINE is set and \(repo)@\(revision) is not in the cache (\(cache.repoDirectory)); "
          + "run once with network access or unset HF_HUB_OFFLINE")
    }
    // config.json fixes the commit; skip the request when the revision is a commit already cached.
    let commit: String
    if HubCache.isCommitHash(revision), cache.has(revision, Self.configFile) {
      commit = revision
    } else {
      let meta: HubFileMetadata?
      do {
        meta = try metadata(repo: repo, revision: revision, file: Self.configFile)
      } catch let error as HubTransportError {
        if let dir = completeSnapshot(cache, revision) {
          note("cannot reach \(configuration.endpoint) (\(error.message)); using the cached snapshot \(dir)")
          return dir
        }
        throw HubError.io(
          "model '\(repo)' is not a local folder, and downloading it failed: cannot reach "
            + "\(configuration.endpoint) (\(error.message))")
      }
      guard let meta else {
        throw HubError.io(
          "\(repo)@\(revision) has no \(Self.configFile) (\(configuration.endpoint)); is it a model repo?")
      }
      commit = meta.commit
      try ensure(cache, Self.configFile, meta)
      try cache.writeRef(revision, commit: commit)
    }
    for file in Self.tokenizerFiles { _ = try fetchIfPresent(cache, repo: repo, commit: commit, file: file) }
    if !(cache.has(commit, "vocab.txt") || (cache.has(commit, "vocab.json") && cache.has(commit, "merges.txt"))) {
      note("\(repo): no vocab.txt or vocab.json+merges.txt in the repo; the tokenizer will not load from it")
    }
    for file in Self.weightFiles where try fetchIfPresent(cache, repo: repo, commit: commit, file: file) {
      return cache.snapshotDirectory(commit)
    }
    throw HubError.io(
      "\(repo)@\(revision) has neither \(Self.weightFiles.joined(separator: " nor ")) (commit \(commit))")
  }

  /// The cached snapshot for `revision` if it has a config and a weights file.
  private func completeSnapshot(_ cache: HubCache, _ revision: String) -> String? {
    guard let commit = cache.commit(forRevision: revision), cache.has(commit, Self.configFile),
      Self.weightFiles.contains(where: { cache.has(commit, $0) })
    else { return nil }
    return cache.snapshotDirectory(commit)
  }

  /// Makes `file` present in the snapshot unless the server says it does not exist; returns whether it exists.
  private func fetchIfPresent(_ cache: HubCache, repo: String, commit: String, file: String) throws -> Bool {
    if cache.has(commit, file) { return true }
    if cache.knownMissing(commit, file) { return false }
    let meta: HubFileMetadata?
    do {
      meta = try metadata(repo: repo, revision: commit, file: file)
    } catch let error as HubTransportError {
      throw HubError.io("cannot reach \(configuration.endpoint) for \(repo)/\(file): \(error.message)")
    }
    guard let meta else {
      cache.markMissing(commit, file)
      return false
    }
    try ensure(cache, file, meta, commit: commit)
    return true
  }

  /// Downloads the blob unless present, then links it into the snapshot.
  private func ensure(_ cache: HubCache, _ file: String, _ meta: HubFileMetadata, commit: String? = nil) throws {
    let commit = commit ?? meta.commit
    if !FileManager.default.fileExists(atPath: cache.blob(meta.etag)) {
      do {
        try download(meta, to: cache.blob(meta.etag), lock: cache.lock(meta.etag), label: "\(cache.repo)/\(file)")
      } catch let error as HubError {
        throw error
      } catch {
        throw HubError.io("cannot write \(cache.blob(meta.etag)): \(error.localizedDescription)")
      }
    }
    try cache.link(commit, file, etag: meta.etag)
  }

  func note(_ message: String) { report(message) }

  /// The request headers for `url`: the token only goes to Hub origins; sending it over plain http warns once.
  func headers(for url: URL, hubURL: URL? = nil) -> [String: String] {
    var h = ["User-Agent": "spiqa/1 (swift)", "Accept-Encoding": "identity"]
    guard let token = configuration.token, isHubOrigin(url, from: hubURL ?? url) else { return h }
    h["Authorization"] = "Bearer \(token)"
    if url.scheme?.lowercased() == "http", !warnedPlainHTTP {
      warnedPlainHTTP = true
      note("warning: sending the Hugging Face token over plain http to \(HubHTTP.hostPort(url)); anyone on the "
        + "network path can read it (use an https HF_ENDPOINT, or unset HF_TOKEN)")
    }
    return h
  }

  /// The resolve URL of a file (revision percent-encoded, `/` included, as the Hub expects).
  func resolveURL(repo: String, revision: String, file: String) throws -> URL {
    let rev = Self.escapeRevision(revision)
    let fileEscaped = file.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file
    guard let url = URL(string: "\(configuration.endpoint)/\(repo)/resolve/\(rev)/\(fileEscaped)") else {
      throw HubError.usage("HF_ENDPOINT '\(configuration.endpoint)' does not form a valid URL")
    }
    return url
  }

  /// A revision as one URL path segment (`refs/pr/1` → `refs%2Fpr%2F1`).
  static func escapeRevision(_ revision: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return revision.addingPercentEncoding(withAllowedCharacters: allowed) ?? revision
  }

}
