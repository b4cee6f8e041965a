import Foundation
import SpiqaCore

#if canImport(Glibc)
import Glibc
#endif

/// Whether a finished download (`<blob>.incomplete`) is the file the Hub announced, before it is published.
///
/// The size is the HEAD's `X-Linked-Size` / `Content-Length`, else the GET's (`Content-Range` total of a 206, the
/// `Content-Length` of a 200); the hash is the ETag: sha256 of the bytes for LFS files (`X-Linked-Etag`), the git
/// blob sha1 for the others, as in huggingface_hub's cache. A download with neither a size nor a checkable hash
/// is refused: a body cut short without a size looks complete and must not be cached as if it were.
struct HubDownloadCheck {
  let meta: HubFileMetadata
  let response: HubHTTPResponse
  /// Bytes the partial file held before this request.
  let resumedAt: Int64
  let label: String
  let partial: String

  /// A refused download: its error, and whether the partial file is a prefix worth resuming.
  struct Failure: Error {
    let error: HubError
    let keepPartial: Bool
  }

  /// The size the server announced for the whole file, if any.
  var announcedSize: Int64? {
    if let size = meta.size { return size }
    if response.status == 206 || response.status == 416, let range = response.header("Content-Range"),
      let slash = range.lastIndex(of: "/"), let total = Int64(range[range.index(after: slash)...])
    {
      return total
    }
    if response.status == 200, let length = response.header("Content-Length").flatMap({ Int64($0) }) {
      return length
    }
    return nil
  }

  /// Checks the status, the size and the hash of the `received` bytes now in `partial`.
  /// - Throws: `Failure` — `.io` (74) for an incomplete or refused transfer, `.badData` (65) for bytes that
  ///   contradict what the server announced.
  func verify(received: Int64) throws {
    let size = announcedSize
    switch response.status {
    case 200, 206: break
    case 416 where size == received: break  // Range not satisfiable: the partial file was already complete
    case 416:
      throw Failure(
        error: .io("download of \(label): the server refused to resume at byte \(resumedAt) (HTTP 416); "
          + "the partial file was removed, run again to download it anew"), keepPartial: false)
    default:
      throw Failure(
        error: .io("download of \(label): HTTP \(response.status) from \(response.url.absoluteString)"),
        keepPartial: true)
    }
    if let size, received < size {
      throw Failure(
        error: .io("download of \(label) ended after \(received) of \(size) bytes; the partial file \(partial) "
          + "will be resumed on the next run"), keepPartial: true)
    }
    if let size, received > size {
      throw Failure(
        error: .badData("download of \(label): received \(received) bytes, more than the \(size) announced; "
          + "nothing was kept"), keepPartial: false)
    }
    guard let kind = FileDigest.kind(ofETag: meta.etag) else {
      if size != nil { return }
      throw Failure(
        error: .badData("download of \(label): the server announced neither a size nor a sha256/sha1 ETag "
          + "('\(meta.etag)'), so a cut-short body cannot be told from a complete one; nothing was kept"),
        keepPartial: false)
    }
    guard let digest = FileDigest.ofFile(partial, kind: kind) else {
      throw Failure(error: .io("cannot read \(partial) back to check it"), keepPartial: false)
    }
    guard digest == meta.etag else {
      let name = kind == .sha256 ? "sha256" : "git sha1"
      if size == nil {
        throw Failure(
          error: .io("download of \(label) ended after \(received) bytes with no size announced, and their \(name) "
            + "\(digest) is not the announced \(meta.etag): cut short or corrupt; nothing was kept"),
          keepPartial: false)
      }
      throw Failure(
        error: .badData("download of \(label): the \(name) of the \(received) bytes received is \(digest), the "
          + "Hub announced \(meta.etag); nothing was kept"), keepPartial: false)
    }
  }
}
