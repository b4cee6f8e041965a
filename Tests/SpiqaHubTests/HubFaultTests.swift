import CDigestKernels
import Foundation
import Testing

import SpiqaCore
@testable import SpiqaHub
import SpiqaTestSupport

/// Small limits, so a stalled server fails the test run quickly (the tests never look at the clock).
private let quick = HubTimeouts(connect: 1.5, idle: 1.5, total: 30)
/// Limits for the tests that are not about time: a loaded machine (tests run in parallel) may take a second or more
/// to answer, which must not read as a stalled server.
private let patient = HubTimeouts(connect: 10, idle: 10, total: 60)

/// What a failed resolution left in the cache for `repo`: blob names, and whether the snapshot has `file`.
private func leftovers(_ hub: FakeHub, _ repo: String, _ file: String) -> (blobs: [String], linked: Bool) {
  let dir = hub.cache + "/models--" + repo.replacingOccurrences(of: "/", with: "--")
  let linked = FileManager.default.fileExists(atPath: dir + "/snapshots/\(FakeHub.commit)/\(file)")
  return (blobNames(hub.cache, repo), linked)
}

/// The sha256 (64 hex) blob names: the LFS weights file and its partial download.
private func weightBlobs(_ names: [String]) -> [String] {
  names.filter { $0.count >= 64 && $0.prefix(64).allSatisfy(\.isHexDigit) }
}

/// Collects what the client reports (warnings, notes), from any thread.
private final class Reports: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func add(_ s: String) { lock.withLock { lines.append(s) } }
  var all: [String] { lock.withLock { lines } }
}

@Suite(
  "Hub faults", .enabled(if: TestPython.executable != nil, "python3 is needed for the fake hub server"),
  .timeLimit(.minutes(1)))
struct HubFaultTests {
  /// The one-line, exit-74 error of a resolution that must fail, checked for Foundation's raw error text.
  private func failure(_ client: HubClient, _ spec: String = "org/tiny-bert") throws -> HubError {
    let error = try #require(throws: HubError.self) { try client.resolveModelDirectory(spec) }
    #expect(!error.description.contains("NSURLErrorDomain") && !error.description.contains("\n"), "\(error)")
    return error
  }

  @Test("a server dripping a byte at a time: the idle limit ends the download (74), only a partial file is left")
  func idleTimeout() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"drip_every": 2}"#)
    let error = try failure(hub.client(timeouts: quick))
    #expect(error.exitCode == 74)
    #expect(error.description.contains("no data from 127.0.0.1:") && error.description.contains("SPIQA_HUB_IDLE_TIMEOUT"))
    let left = leftovers(hub, "org/tiny-bert", "pytorch_model.bin")
    #expect(!left.linked)
    #expect(weightBlobs(left.blobs).allSatisfy { $0.hasSuffix(".incomplete") })
  }

  @Test("a server dripping just fast enough to beat the idle limit: the total limit ends it (74)")
  func totalTimeout() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"drip_every": 0.05}"#)
    let error = try failure(hub.client(timeouts: HubTimeouts(connect: 5, idle: 5, total: 1.5)))
    #expect(error.exitCode == 74)
    #expect(error.description.contains("SPIQA_HUB_TIMEOUT"), "\(error)")
    #expect(!leftovers(hub, "org/tiny-bert", "pytorch_model.bin").linked)
  }

  @Test("a server that accepts but does not answer: the connect limit, for the metadata and for the download",
    arguments: ["resolve", "cdn"])
  func slowStart(where place: String) throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"slow_start": 3, "slow_where": "\#(place)"}"#)
    let error = try failure(hub.client(timeouts: quick))
    #expect(error.exitCode == 74)
    #expect(error.description.contains("no answer from 127.0.0.1:") && error.description.contains("SPIQA_HUB_CONNECT_TIMEOUT"), "\(error)")
    if place == "resolve" { #expect(error.description.contains("cannot reach")) }
  }

  @Test("no server at all: a plain message, not Foundation's error code")
  func refused() throws {
    let hub = try FakeHub()
    let error = try failure(hub.client(endpoint: "http://127.0.0.1:9", timeouts: quick))
    #expect(error.exitCode == 74)
    #expect(error.description.contains("cannot connect to 127.0.0.1:9"), "\(error)")
  }

  @Test("a body cut short with no size announced is not cached as complete; a clean retry then succeeds")
  func cutShortWithoutSize() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"no_size": true, "cut_no_length": 1000}"#)
    let error = try failure(hub.client(timeouts: patient))
    #expect(error.exitCode == 74)
    #expect(error.description.contains("cut short"), "\(error)")
    let left = leftovers(hub, "org/tiny-bert", "pytorch_model.bin")
    #expect(!left.linked)
    #expect(weightBlobs(left.blobs).isEmpty, "nothing of the weights is left: \(left.blobs)")
    try hub.setFaults(nil)
    let dir = try hub.client(timeouts: patient).resolveModelDirectory("org/tiny-bert")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == hub.source("org/tiny-bert", "pytorch_model.bin"))
  }

  @Test("without a size the hash decides: a complete body with no size is verified by its sha256 and kept")
  func noSizeComplete() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"no_size": true, "cut_no_length": 100000000}"#)
    let dir = try hub.client(timeouts: patient).resolveModelDirectory("org/tiny-bert")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == hub.source("org/tiny-bert", "pytorch_model.bin"))
  }

  @Test("a size other than announced: fewer bytes (74, resumable) or more bytes (65, nothing kept)")
  func wrongSize() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"size_delta": 10}"#)
    let short = try failure(hub.client(timeouts: patient))
    #expect(short.exitCode == 74 && short.description.contains("ended after"), "\(short)")
    #expect(!leftovers(hub, "org/tiny-bert", "pytorch_model.bin").linked)
    // The next run asks for the rest; the server has none (416): the partial file goes, still not published.
    let again = try failure(hub.client(timeouts: patient))
    #expect(again.exitCode == 74 && again.description.contains("HTTP 416"), "\(again)")
    #expect(weightBlobs(leftovers(hub, "org/tiny-bert", "pytorch_model.bin").blobs).isEmpty)

    try hub.setFaults(#"{"size_delta": -10}"#)
    let long = try failure(hub.client(timeouts: patient))
    #expect(long.exitCode == 65 && long.description.contains("more than the"), "\(long)")
    let left = leftovers(hub, "org/tiny-bert", "pytorch_model.bin")
    #expect(!left.linked && weightBlobs(left.blobs).isEmpty, "\(left.blobs)")
  }

  @Test("bytes whose sha256 is not the announced X-Linked-Etag are refused (65) and not kept")
  func wrongSha() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"wrong_sha": true}"#)
    let error = try failure(hub.client(timeouts: patient))
    #expect(error.exitCode == 65 && error.description.contains("sha256"), "\(error)")
    let left = leftovers(hub, "org/tiny-bert", "pytorch_model.bin")
    #expect(!left.linked && weightBlobs(left.blobs).isEmpty, "\(left.blobs)")
  }

  @Test("a token sent over plain http is warned about once; no token, no warning")
  func tokenOverHTTP() throws {
    let hub = try FakeHub()
    let reports = Reports()
    let client = hub.client(token: "hf_secret")
    client.report = reports.add
    _ = try client.resolveModelDirectory("org/tiny-bert")
    #expect(reports.all.filter { $0.contains("plain http") }.count == 1, "\(reports.all)")
    let quiet = Reports()
    let anonymous = hub.client()
    anonymous.report = quiet.add
    _ = try anonymous.resolveModelDirectory("org/tiny-st")
    #expect(!quiet.all.contains { $0.contains("plain http") })
  }

  @Test("four downloads of one uncached repo at once all succeed; the lock lets one fetch each blob")
  func concurrentDownloads() throws {
    let hub = try FakeHub()
    try hub.setFaults(#"{"slow_start": 0.3, "slow_where": "cdn"}"#)  // keep them overlapping
    let results = Reports()
    let group = DispatchGroup()
    for _ in 0..<4 {
      group.enter()
      nonisolated(unsafe) let client = hub.client()  // used by this thread only
      Thread {
        do {
          results.add(try client.resolveModelDirectory("org/tiny-bert"))
        } catch {
          results.add("error: \(error)")
        }
        group.leave()
      }.start()
    }
    group.wait()
    let dirs = results.all
    #expect(dirs.count == 4 && Set(dirs).count == 1 && !dirs[0].hasPrefix("error"), "\(dirs)")
    let dir = try #require(dirs.first)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == hub.source("org/tiny-bert", "pytorch_model.bin"))
    #expect(try hub.log().filter { $0.method == "GET" && $0.path.hasPrefix("/cdn/") }.count == 1)
    #expect(!blobNames(hub.cache, "org/tiny-bert").contains { $0.contains(".incomplete") || $0.contains(".tmp") })
  }
}

@Suite("Hub download checks")
struct HubDownloadCheckTests {
  @Test("SHA-256 and SHA-1 match the FIPS 180 vectors, fed in any chunking; git blob ids as git computes them")
  func digests() throws {
    func hex(_ kind: FileDigest.Kind, _ bytes: [UInt8], chunk: Int) -> String {
      var d = FileDigest(kind)
      var i = 0
      while i < bytes.count {
        d.update(Array(bytes[i..<min(bytes.count, i + chunk)]))
        i += chunk
      }
      return d.finish()
    }
    let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    for chunk in [1, 7, 64, 1000, 1 << 20] {
      #expect(hex(.sha256, Array("abc".utf8), chunk: chunk) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
      #expect(hex(.sha1, Array("abc".utf8), chunk: chunk) == "a9993e364706816aba3e25717850c26c9cd0d89d")
      #expect(hex(.sha256, million, chunk: chunk * 3 + 1) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
    #expect(hex(.sha256, [], chunk: 1) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-digest-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path))
    #expect(FileDigest.ofFile(path, kind: .sha1) == "ce013625030ba8dba906f756967f9e9ca394464a")  // git hash-object
    #expect(FileDigest.kind(ofETag: String(repeating: "a", count: 64)) == .sha256)
    #expect(FileDigest.kind(ofETag: "ce013625030ba8dba906f756967f9e9ca394464a") == .sha1)
    #expect(FileDigest.kind(ofETag: "opaque-etag") == nil)
  }

  @Test("SHA-256 on the CPU's SHA instructions equals the portable compression, at every length and chunking")
  func hardwareSHA256() throws {
    var rng = SplitMix64(seed: 7)
    let bytes = (0..<20_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    var portable = FileDigest(.sha256)
    portable.usesHardware = false
    #expect(!portable.usesHardware)
    try #require(FileDigest(.sha256).usesHardware || spiqa_sha256_has_hardware() == 0)
    for length in [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 20_000] {
      for chunk in [1, 64, 100, 1 << 20] {
        var hw = FileDigest(.sha256), sw = FileDigest(.sha256)
        sw.usesHardware = false
        var i = 0
        while i < length {
          let part = Array(bytes[i..<min(length, i + chunk)])
          hw.update(part)
          sw.update(part)
          i += chunk
        }
        #expect(hw.finish() == sw.finish(), "length \(length), chunk \(chunk)")
      }
    }
  }

  @Test("a download with neither a size nor a checkable hash is refused (65)")
  func unverifiable() throws {
    let url = try #require(URL(string: "http://127.0.0.1:1/x"))
    let meta = HubFileMetadata(commit: FakeHub.commit, etag: "opaque", size: nil, downloadURL: url, hubURL: url)
    let check = HubDownloadCheck(
      meta: meta, response: HubHTTPResponse(status: 200, headers: [:], url: url), resumedAt: 0, label: "x",
      partial: "/nonexistent")
    let failure = try #require(throws: HubDownloadCheck.Failure.self) { try check.verify(received: 10) }
    #expect(failure.error.exitCode == 65 && !failure.keepPartial)
    // The GET's own Content-Length counts as the announced size.
    let sized = HubDownloadCheck(
      meta: meta, response: HubHTTPResponse(status: 200, headers: ["content-length": "10"], url: url), resumedAt: 0,
      label: "x", partial: "/nonexistent")
    try sized.verify(received: 10)
  }
}
