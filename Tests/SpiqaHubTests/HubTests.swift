import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

import SpiqaModel
@testable import SpiqaHub
import SpiqaTestSupport

/// The checkpoint folders the fake Hub serves: SpiqaModelTests' PyTorch fixtures, read from the source tree (so
/// `download` can check that a downloaded snapshot loads, without a second copy of the weights).
let checkpointFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("SpiqaModelTests/Fixtures/pytorch")

/// A fake Hub on 127.0.0.1 (Fixtures/hub/fake_hub.py) serving repos built from the PyTorch fixtures.
final class FakeHub {
  static let commit = "0123456789abcdef0123456789abcdef01234567"
  let root: URL
  let cache: String
  let endpoint: String
  private let process: Process
  private let stdin = Pipe()

  init() throws {
    let fm = FileManager.default
    root = fm.temporaryDirectory.appendingPathComponent("spiqa-hub-\(UUID().uuidString)")
    let repos = root.appendingPathComponent("repos")
    cache = root.appendingPathComponent("cache").path
    let fixtures = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures")
    func repo(_ name: String, from folder: String, files: [String]) throws {
      let dir = repos.appendingPathComponent(name)
      try fm.createDirectory(at: dir, withIntermediateDirectories: true)
      try Data(Self.commit.utf8).write(to: dir.appendingPathComponent(".commit"))
      for f in files {
        try fm.copyItem(at: checkpointFixtures.appendingPathComponent("\(folder)/\(f)"), to: dir.appendingPathComponent(f))
      }
    }
    try repo("org/tiny-bert", from: "bert-qa-bin", files: ["config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"])
    try repo("org/tiny-st", from: "roberta-cls-st", files: ["config.json", "vocab.json", "merges.txt", "model.safetensors"])
    try repo("org/no-config", from: "bert-qa-bin", files: ["vocab.txt", "pytorch_model.bin"])
    try repo("org/no-weights", from: "bert-qa-bin", files: ["config.json", "vocab.txt"])

    let python = try #require(TestPython.executable)
    process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [fixtures.appendingPathComponent("hub/fake_hub.py").path, repos.path]
    let out = Pipe()
    process.standardOutput = out
    process.standardInput = stdin  // the server exits when this pipe closes
    try process.run()
    // The first stdout line is the port.
    var line = Data()
    while !line.contains(0x0A) {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let n = Int(port), n > 0 else {
      try? stdin.fileHandleForWriting.close()
      throw HubError.io("fake hub did not start (got '\(port)')")
    }
    endpoint = "http://127.0.0.1:\(n)"
  }

  deinit {
    try? stdin.fileHandleForWriting.close()
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: root)
  }

  var faults: URL { root.appendingPathComponent("repos/.faults.json") }

  func client(
    offline: Bool = false, token: String? = nil, endpoint: String? = nil,
    timeouts: HubTimeouts = HubTimeouts(connect: 10, idle: 10, total: 60)
  ) -> HubClient {
    let client = HubClient(configuration: HubConfiguration(
      endpoint: endpoint ?? self.endpoint, cacheDirectory: cache, offline: offline, token: token,
      showProgress: false, timeouts: timeouts))
    client.report = { _ in }  // keep test output clean; tests that check warnings set their own
    return client
  }

  /// Sets the server's faults (see fake_hub.py), or clears them with nil.
  func setFaults(_ json: String?) throws {
    if let json { try Data(json.utf8).write(to: faults) } else { try? FileManager.default.removeItem(at: faults) }
  }

  struct Request: Decodable, Equatable {
    let method: String
    let path: String
    let range: String?
    let authorization: String?
  }

  /// Every request the server has seen (the log request itself excluded).
  func log() throws -> [Request] {
    var body = Data()
    let http = HubHTTP(timeouts: HubTimeouts())
    let url = try #require(URL(string: endpoint + "/__log"))
    _ = try http.get(url, headers: [:], accept: { $0.status == 200 }, sink: { body.append($0) }, progress: nil)
    return try JSONDecoder().decode([Request].self, from: body).filter { $0.path != "/__log" }
  }

  func source(_ repo: String, _ file: String) throws -> Data {
    try Data(contentsOf: root.appendingPathComponent("repos/\(repo)/\(file)"))
  }
}

func blobNames(_ cache: String, _ repo: String) -> [String] {
  let dir = cache + "/models--" + repo.replacingOccurrences(of: "/", with: "--") + "/blobs"
  return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

@Suite("Hub", .enabled(if: TestPython.executable != nil, "python3 is needed for the fake hub server"), .timeLimit(.minutes(1)))
struct HubTests {
  @Test("download into the huggingface_hub cache layout; the .bin snapshot loads")
  func download() throws {
    let hub = try FakeHub()
    let dir = try hub.client().resolveModelDirectory("org/tiny-bert")
    let repoDir = hub.cache + "/models--org--tiny-bert"
    #expect(dir == repoDir + "/snapshots/" + FakeHub.commit)
    #expect(try String(contentsOfFile: repoDir + "/refs/main", encoding: .utf8) == FakeHub.commit)
    for file in ["config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"] {
      #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)) == hub.source("org/tiny-bert", file))
      let link = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + file)
      #expect(link.hasPrefix("../../blobs/"), "\(file) → \(link)")
    }
    // The LFS file's blob is named by its sha256 (X-Linked-Etag), not by the redirect's own ETag.
    let sha = try #require(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/pytorch_model.bin")
      .split(separator: "/").last)
    #expect(sha.count == 64)
    #expect(!blobNames(hub.cache, "org/tiny-bert").contains { $0.hasSuffix(".incomplete") || $0 == "not-the-blob-name" })
    // Optional files that 404'd are remembered like huggingface_hub does.
    #expect(FileManager.default.fileExists(atPath: repoDir + "/.no_exist/\(FakeHub.commit)/model.safetensors"))
    #expect(FileManager.default.fileExists(atPath: repoDir + "/.no_exist/\(FakeHub.commit)/vocab.json"))
    let weights = try PyTorchBinFile(path: dir + "/pytorch_model.bin")
    #expect(weights.tensorNames.contains("qa_outputs.weight"))
    // The first request is for the config at the requested revision, later ones at the commit.
    let log = try hub.log()
    #expect(log.first == FakeHub.Request(method: "HEAD", path: "/org/tiny-bert/resolve/main/config.json", range: nil, authorization: nil))
    #expect(log.filter { $0.path.contains("/resolve/main/") }.count == 1)
    #expect(log.contains { $0.method == "GET" && $0.path.hasPrefix("/cdn/") })
  }

  @Test("a second call reuses the cache: only the config is re-checked, no model file is requested")
  func cacheReuse() throws {
    let hub = try FakeHub()
    let first = try hub.client().resolveModelDirectory("org/tiny-st")
    let before = try hub.log().count
    let second = try hub.client().resolveModelDirectory("org/tiny-st")
    #expect(first == second)
    let after = Array(try hub.log().dropFirst(before))
    #expect(after == [FakeHub.Request(method: "HEAD", path: "/org/tiny-st/resolve/main/config.json", range: nil, authorization: nil)])
    // At an explicit commit nothing is requested at all.
    let third = try hub.client().resolveModelDirectory("org/tiny-st@\(FakeHub.commit)")
    #expect(third == first)
    #expect(try hub.log().count == before + 1)
  }

  @Test("offline mode uses the cache only and fails clearly when the model is absent")
  func offline() throws {
    let hub = try FakeHub()
    let missing = try #require(throws: HubError.self) { try hub.client(offline: true).resolveModelDirectory("org/tiny-bert") }
    #expect(missing.description.contains("HF_HUB_OFFLINE") && missing.description.contains("org/tiny-bert"))
    #expect(try hub.log().isEmpty)
    let online = try hub.client().resolveModelDirectory("org/tiny-bert")
    let count = try hub.log().count
    // Offline, and with an endpoint that cannot answer: the cached snapshot, no request.
    let cached = try hub.client(offline: true, endpoint: "http://127.0.0.1:9").resolveModelDirectory("org/tiny-bert")
    #expect(cached == online)
    #expect(try hub.log().count == count)
    // Online but unreachable: falls back to the complete cached snapshot.
    let fallback = try hub.client(endpoint: "http://127.0.0.1:9").resolveModelDirectory("org/tiny-bert")
    #expect(fallback == online)
  }

  @Test("missing repo, missing config and missing weights give clear errors")
  func notFound() throws {
    let hub = try FakeHub()
    let repo = try #require(throws: HubError.self) { try hub.client().resolveModelDirectory("org/nope") }
    #expect(repo.description.contains("repository not found"))
    let config = try #require(throws: HubError.self) { try hub.client().resolveModelDirectory("org/no-config") }
    #expect(config.description.contains("has no config.json"))
    let weights = try #require(throws: HubError.self) { try hub.client().resolveModelDirectory("org/no-weights") }
    #expect(weights.description.contains("neither model.safetensors nor pytorch_model.bin"))
    let revision = try #require(throws: HubError.self) { try hub.client().resolveModelDirectory("org/tiny-bert@v9") }
    #expect(revision.description.contains("revision 'v9' not found"))
    for error in [repo, config, weights, revision] { #expect(!error.description.contains("\n")) }
  }

  @Test("a dropped connection leaves only a partial file, which the next run resumes with a Range request")
  func droppedAndResumed() throws {
    let hub = try FakeHub()
    try Data(#"{"drop_after": 40000}"#.utf8).write(to: hub.faults)
    let error = try #require(throws: HubError.self) { try hub.client().resolveModelDirectory("org/tiny-bert") }
    #expect(error.description.contains("interrupted"))
    let blobs = blobNames(hub.cache, "org/tiny-bert")
    let partial = try #require(blobs.first { $0.hasSuffix(".incomplete") })
    let sha = String(partial.dropLast(".incomplete".count))
    #expect(!blobs.contains(sha), "no complete-named blob after a failed download")
    let snapshot = hub.cache + "/models--org--tiny-bert/snapshots/\(FakeHub.commit)/pytorch_model.bin"
    #expect(!FileManager.default.fileExists(atPath: snapshot))
    let partialPath = hub.cache + "/models--org--tiny-bert/blobs/" + partial
    let have = try #require(try FileManager.default.attributesOfItem(atPath: partialPath)[.size] as? Int)
    #expect(have == 40000)

    try FileManager.default.removeItem(at: hub.faults)
    let dir = try hub.client().resolveModelDirectory("org/tiny-bert")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == hub.source("org/tiny-bert", "pytorch_model.bin"))
    #expect(try hub.log().last == FakeHub.Request(method: "GET", path: "/cdn/\(sha)", range: "bytes=40000-", authorization: nil))
    #expect(!blobNames(hub.cache, "org/tiny-bert").contains { $0.hasSuffix(".incomplete") })
  }

  @Test("resume edge cases: a complete partial file (416), a server ignoring Range (200), a stale oversized partial")
  func resumeEdgeCases() throws {
    let hub = try FakeHub()
    let content = try hub.source("org/tiny-bert", "pytorch_model.bin")
    let dir = try hub.client().resolveModelDirectory("org/tiny-bert")
    let link = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/pytorch_model.bin")
    let sha = String(try #require(link.split(separator: "/").last))
    let blob = hub.cache + "/models--org--tiny-bert/blobs/" + sha
    /// Replaces the finished blob by a partial file holding `bytes`, as if a run had stopped before the rename.
    func restart(partial bytes: Data, faults: String?) throws -> [FakeHub.Request] {
      try FileManager.default.removeItem(atPath: blob)
      try FileManager.default.removeItem(atPath: dir + "/pytorch_model.bin")
      try bytes.write(to: URL(fileURLWithPath: blob + ".incomplete"))
      if let faults { try Data(faults.utf8).write(to: hub.faults) } else { try? FileManager.default.removeItem(at: hub.faults) }
      let before = try hub.log().count
      #expect(try hub.client().resolveModelDirectory("org/tiny-bert") == dir)
      #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == content)
      #expect(!FileManager.default.fileExists(atPath: blob + ".incomplete"))
      return Array(try hub.log().dropFirst(before)).filter { $0.path.hasPrefix("/cdn/") }
    }
    let complete = try restart(partial: content, faults: nil)
    #expect(complete.map(\.range) == ["bytes=\(content.count)-"])
    let ignored = try restart(partial: content.prefix(1000), faults: #"{"ignore_range": true}"#)
    #expect(ignored.map(\.range) == ["bytes=1000-"])
    var stale = content
    stale.append(contentsOf: [1, 2, 3])
    let oversized = try restart(partial: stale, faults: nil)
    #expect(oversized.map(\.range) == [nil])
  }

  @Test("redirects on the Hub (relative or absolute) are followed; the token goes to the Hub, never to the CDN",
    arguments: ["old-org", "moved-org"])
  func redirectsAndToken(org: String) throws {
    let hub = try FakeHub()
    let dir = try hub.client(token: "hf_secret").resolveModelDirectory("\(org)/tiny-bert")
    #expect(dir.hasPrefix(hub.cache + "/models--\(org)--tiny-bert/snapshots/"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/pytorch_model.bin")) == hub.source("org/tiny-bert", "pytorch_model.bin"))
    let log = try hub.log()
    #expect(log.contains { $0.path == "/org/tiny-bert/resolve/main/config.json" })
    #expect(log.filter { $0.path.contains("/resolve/") }.allSatisfy { $0.authorization == "Bearer hf_secret" })
    let cdn = log.filter { $0.path.hasPrefix("/cdn/") }
    #expect(cdn.count == 1 && cdn.allSatisfy { $0.authorization == nil })
  }

  @Test("model arguments: local folders as is, bad ids and missing paths refused")
  func specs() throws {
    let hub = try FakeHub()
    let client = hub.client()
    #expect(try client.resolveModelDirectory(hub.root.path) == hub.root.path)
    for bad in ["./missing-folder", "/no/such/folder", "a/b/c", "org/na--me", "-org/x", "org/x@", "org/x@../y"] {
      let error = try #require(throws: HubError.self, "\(bad)") { try client.resolveModelDirectory(bad) }
      #expect(error.exitCode == 64)
    }
    #expect(try hub.log().isEmpty)
    #expect(HubModelSpec("csarron/roberta-base-squad-v1") == HubModelSpec("csarron/roberta-base-squad-v1@main"))
    #expect(HubModelSpec("textattack/roberta-base-SST-2@refs/pr/1")?.revision == "refs/pr/1")
  }

  @Test("configuration from the environment follows huggingface_hub")
  func environment() throws {
    let a = try HubConfiguration.fromEnvironment(["HOME": "/home/u"])
    #expect(a.endpoint == "https://huggingface.co" && a.cacheDirectory == "/home/u/.cache/huggingface/hub")
    #expect(!a.offline && a.token == nil && a.showProgress)
    let b = try HubConfiguration.fromEnvironment([
      "HOME": "/home/u", "HF_HOME": "/data/hf", "HF_ENDPOINT": "http://mirror:8080/", "HF_HUB_OFFLINE": "1",
      "HF_TOKEN": "t",
    ])
    #expect(b.endpoint == "http://mirror:8080" && b.cacheDirectory == "/data/hf/hub" && b.offline && b.token == "t")
    let c = try HubConfiguration.fromEnvironment([
      "HOME": "/home/u", "HF_HOME": "/data/hf", "HF_HUB_CACHE": "~/hc", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    ])
    #expect(c.cacheDirectory == "/home/u/hc" && !c.showProgress)
    let d = try HubConfiguration.fromEnvironment(["HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"])
    #expect(d.cacheDirectory == "/xdg/huggingface/hub")
    // Timeouts: huggingface_hub's defaults (10 s) and variables, spiqa's own names first, a total limit.
    #expect(a.timeouts == HubTimeouts(connect: 10, idle: 10, total: 3600))
    let e = try HubConfiguration.fromEnvironment([
      "HOME": "/h", "HF_HUB_ETAG_TIMEOUT": "3", "HF_HUB_DOWNLOAD_TIMEOUT": "4", "SPIQA_HUB_TIMEOUT": "0.5",
    ])
    #expect(e.timeouts == HubTimeouts(connect: 3, idle: 4, total: 0.5))
    let f = try HubConfiguration.fromEnvironment([
      "HOME": "/h", "HF_HUB_ETAG_TIMEOUT": "3", "SPIQA_HUB_CONNECT_TIMEOUT": "7", "SPIQA_HUB_IDLE_TIMEOUT": "8",
      "HF_HUB_DOWNLOAD_TIMEOUT": "4",
    ])
    #expect(f.timeouts == HubTimeouts(connect: 7, idle: 8, total: 3600))
    for bad in ["0", "-1", "abc", "inf", "nan"] {
      let error = try #require(throws: HubError.self, "\(bad)") {
        try HubConfiguration.fromEnvironment(["HOME": "/h", "SPIQA_HUB_IDLE_TIMEOUT": bad])
      }
      #expect(error.exitCode == 64 && error.description.contains("SPIQA_HUB_IDLE_TIMEOUT"))
    }
  }
}

/// Whether Python's huggingface_hub is importable (for the cache interoperability test).
private let huggingfaceHub = TestPython.canImport("huggingface_hub")

@Suite("HubInterop", .enabled(if: huggingfaceHub, "Python's huggingface_hub is needed"), .timeLimit(.minutes(1)))
struct HubInteropTests {
  /// Runs huggingface_hub's `hf_hub_download` for `files` of `repo`; returns the local paths it prints.
  fileprivate func pythonDownload(_ hub: FakeHub, cache: String, repo: String, files: [String], offline: Bool) throws -> [String] {
    let script = "import sys\nfrom huggingface_hub import hf_hub_download\n"
      + "for f in sys.argv[2:]: print(hf_hub_download(sys.argv[1], f))"
    let r = try runProcess(
      try #require(TestPython.executable), ["-c", script, repo] + files,
      environment: [
        "HF_ENDPOINT": hub.endpoint, "HF_HUB_CACHE": cache, "HF_HUB_OFFLINE": offline ? "1" : "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
      ])
    #expect(r.status == 0, "hf_hub_download failed: \(r.stderr)")
    return r.text.split(separator: "\n").map(String.init)
  }

  @Test("a cache filled by huggingface_hub is reused without downloads, and huggingface_hub reads ours offline")
  func sharedCache() throws {
    let hub = try FakeHub()
    let files = ["config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"]
    // Python first: then spiqa, offline and online, must not fetch any file again.
    let pythonCache = hub.root.appendingPathComponent("python-cache").path
    let pythonPaths = try pythonDownload(hub, cache: pythonCache, repo: "org/tiny-bert", files: files, offline: false)
    #expect(pythonPaths.count == files.count)
    let before = try hub.log().filter { !$0.path.hasPrefix("/api/") }.count
    let offline = HubClient(configuration: HubConfiguration(
      endpoint: hub.endpoint, cacheDirectory: pythonCache, offline: true, showProgress: false, timeouts: HubTimeouts(connect: 10, idle: 10, total: 60)))
    let dir = try offline.resolveModelDirectory("org/tiny-bert")
    #expect(pythonPaths.allSatisfy { $0.hasPrefix(dir + "/") })
    let online = HubClient(configuration: HubConfiguration(
      endpoint: hub.endpoint, cacheDirectory: pythonCache, showProgress: false, timeouts: HubTimeouts(connect: 10, idle: 10, total: 60)))
    #expect(try online.resolveModelDirectory("org/tiny-bert") == dir)
    let after = Array(try hub.log().filter { !$0.path.hasPrefix("/api/") }.dropFirst(before))
    #expect(after.allSatisfy { $0.method == "HEAD" }, "no file was downloaded again")
    #expect(!after.contains { files.dropFirst().contains(($0.path as NSString).lastPathComponent) })

    // spiqa first: huggingface_hub, offline, finds every file in our cache.
    let ours = try hub.client().resolveModelDirectory("org/tiny-st")
    let names = ["config.json", "vocab.json", "merges.txt", "model.safetensors"]
    let paths = try pythonDownload(hub, cache: hub.cache, repo: "org/tiny-st", files: names, offline: true)
    #expect(paths == names.map { ours + "/" + $0 })
    for (path, name) in zip(paths, names) {
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == hub.source("org/tiny-st", name))
    }
  }
}

@Suite("Model arguments")
struct ModelArgumentTests {
  @Test("resolveModelDirectory: an existing path as is; missing paths and bare names are I/O errors, no download")
  func localOrMissing() throws {
    let dir = FileManager.default.temporaryDirectory.path
    #expect(try resolveModelDirectory(dir) == dir)
    for bad in ["/no/such/folder", "./missing", "~nobody/x", "minilm"] {
      let error = try #require(throws: HubError.self, "\(bad)") { try resolveModelDirectory(bad) }
      #expect(error.exitCode == 74)
      #expect(error.description == "\(bad): no such model folder; expected a Hugging Face checkpoint folder or a Hub id (org/name)")
    }
  }
}
