import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a HEAD on a resolve URL tells about one file.
struct HubFileMetadata {
  /// The commit the revision points to (`X-Repo-Commit`).
  let commit: String
  /// Blob name: `X-Linked-Etag` (LFS sha256) or `ETag`, without quotes or `W/`.
  let etag: String
  /// Expected byte count (`X-Linked-Size` or `Content-Length`), when sent.
  let size: Int64?
  /// Where the bytes are: the CDN location of a redirect, or the resolve URL itself.
  let downloadURL: URL
  /// The last Hub URL asked (the token may go to its origin, not to the CDN's).
  let hubURL: URL
}

extension HubClient {
  /// HEAD the resolve URL of `file`; nil when the server says the file does not exist (404 with the repo found).
  func metadata(repo: String, revision: String, file: String) throws -> HubFileMetadata? {
    var url = try resolveURL(repo: repo, revision: revision, file: file)
    var response = try http.head(url, headers: headers(for: url))
    // Redirects that stay on the Hub (renamed repos) are followed, as huggingface_hub does; one to another origin
    // (the CDN) carries the file's metadata itself and is where the bytes are.
    var hops = 0
    while (300..<400).contains(response.status), let location = response.header("Location"),
      let next = URL(string: location, relativeTo: url)?.absoluteURL, isHubOrigin(next, from: url), hops < 10
    {
      url = next
      response = try http.head(url, headers: headers(for: url))
      hops += 1
    }
    let what = "\(repo)/\(file) at \(revision)"
    switch response.status {
    case 200..<400: break
    case 404:
      if response.header("X-Error-Code") == "RevisionNotFound" {
        throw HubError.io("\(repo): revision '\(revision)' not found at \(configuration.endpoint) (HTTP 404)")
      }
      if response.header("X-Error-Code") == "RepositoryNotFound" || response.header("X-Repo-Commit") == nil {
        throw HubError.io(
          "\(repo): no such local folder, and repository not found at \(configuration.endpoint) "
            + "(if it is private or gated, set HF_TOKEN), HTTP 404")
      }
      return nil
    case 401, 403:
      throw HubError.io("\(what): access denied (HTTP \(response.status)); gated or private repo — set HF_TOKEN")
    default:
      throw HubError.io("\(what): HTTP \(response.status) from \(url.absoluteString)")
    }
    guard let commit = response.header("X-Repo-Commit"),
      let rawTag = response.header("X-Linked-Etag") ?? response.header("ETag")
    else {
      throw HubError.badData(
        "\(what): the server sent no X-Repo-Commit/ETag headers; is HF_ENDPOINT a Hugging Face Hub?")
    }
    var etag = rawTag.hasPrefix("W/") ? String(rawTag.dropFirst(2)) : rawTag
    etag = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    guard HubCache.isCommitHash(commit) || commit.allSatisfy(\.isHexDigit), !etag.isEmpty,
      !etag.contains("/"), etag != ".", etag != ".."
    else { throw HubError.badData("\(what): unusable commit '\(commit)' or ETag '\(rawTag)'") }
    // A redirect's Content-Length is the length of the redirect's own body, not the file's.
    let redirected = (300..<400).contains(response.status)
    let size = (response.header("X-Linked-Size") ?? (redirected ? nil : response.header("Content-Length")))
      .flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    var target = url
    if (300..<400).contains(response.status), let location = response.header("Location"),
      let next = URL(string: location, relativeTo: url)
    {
      target = next.absoluteURL
    } else if revision != commit, let rev = url.absoluteString.range(of: "/resolve/\(Self.escapeRevision(revision))/"),
      let atCommit = URL(string: url.absoluteString.replacingCharacters(in: rev, with: "/resolve/\(commit)/"))
    {
      target = atCommit  // fetch the very commit the metadata describes, even if the branch moves meanwhile
    }
    return HubFileMetadata(commit: commit, etag: etag, size: size, downloadURL: target, hubURL: url)
  }

  /// Whether `target` is served by the origin of `url` or by a Hub origin (the configured endpoint,
  /// huggingface.co, hf.co): the token may go there, and redirects there are followed for metadata.
  func isHubOrigin(_ target: URL, from url: URL) -> Bool {
    let hubs = [configuration.endpoint, "https://huggingface.co", "https://hf.co"].compactMap { URL(string: $0) }
    return ([url] + hubs).contains { HubHTTP.origin($0) == HubHTTP.origin(target) }
  }

  /// Downloads into `<blob>.incomplete` (resuming a partial one with a Range request), checks it against the size
  /// and the hash the Hub announced (`HubDownloadCheck`) and renames it to `blob`. Another process downloading the
  /// same blob — spiqa or Python's huggingface_hub, which flocks the same file — waits on `lock`.
  func download(_ meta: HubFileMetadata, to blob: String, lock: String, label: String) throws {
    try HubCache.makeDirectory((blob as NSString).deletingLastPathComponent)
    try HubCache.makeDirectory((lock as NSString).deletingLastPathComponent)
    let lockFD = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard lockFD >= 0 else { throw HubError.io("cannot create \(lock): \(String(cString: strerror(errno)))") }
    defer { close(lockFD) }
    let waitStart = DispatchTime.now()
    while flock(lockFD, LOCK_EX) != 0 {
      guard errno == EINTR else { throw HubError.io("cannot lock \(lock): \(String(cString: strerror(errno)))") }
    }
    http.extendClock(by: Double(DispatchTime.now().uptimeNanoseconds - waitStart.uptimeNanoseconds) / 1e9)
    if FileManager.default.fileExists(atPath: blob) { return }  // another process finished it meanwhile

    let partial = blob + ".incomplete"
    let file = try HubPartialFile(path: partial)
    var have = file.size
    if let size = meta.size, have > size {  // a stale partial file larger than the blob: start over
      try file.truncate()
      have = 0
    }
    var headers = headers(for: meta.downloadURL, hubURL: meta.hubURL)  // no token for a signed CDN URL
    if have > 0 { headers["Range"] = "bytes=\(have)-" }
    let start = have
    // Progress only for files worth waiting for (not the small config and tokenizer files).
    let meter = HubProgress(
      label: label, total: meta.size, enabled: configuration.showProgress && (meta.size ?? Int64.max) >= 1 << 20,
      resumedAt: start)
    let response: HubHTTPResponse
    do {
      response = try http.get(
        meta.downloadURL, headers: headers,
        accept: { r in
          // 206 continues the partial file; 200 means the server ignored Range: restart from zero.
          if r.status == 200, start > 0 { try? file.truncate() }
          return r.status == 200 || r.status == 206
        },
        sink: { data in try file.append(data) },
        progress: { _ in meter.update(file.size) })
    } catch let error as HubTransportError {
      meter.finish(failed: true)
      try? file.flush()  // keep every byte received: the next run resumes after them
      throw HubError.io(
        "download of \(label) interrupted after \(file.size) of \(meta.size.map(String.init) ?? "?") bytes "
          + "(\(error.message)); the partial file \(partial) will be resumed on the next run")
    }
    try file.sync()
    let check = HubDownloadCheck(meta: meta, response: response, resumedAt: start, label: label, partial: partial)
    do {
      try check.verify(received: file.size)
    } catch let failure as HubDownloadCheck.Failure {
      meter.finish(failed: true)
      if !failure.keepPartial { unlink(partial) }
      throw failure.error
    }
    meter.finish(failed: false)
    guard rename(partial, blob) == 0 else {
      throw HubError.io("cannot rename \(partial) to \(blob): \(String(cString: strerror(errno)))")
    }
  }
}
