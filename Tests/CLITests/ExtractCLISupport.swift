import Foundation
import SpiqaCLI
import SpiqaIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `spiqa-extract` and reads what it wrote (helpers of ExtractCLITests).
enum ExtractCLI {
  /// Package root (three levels above this file).
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The built tool next to the test bundle (`.build/<triple>/<config>/spiqa-extract`).
  static var binary: String? {
    let dir = Bundle.main.bundleURL.path
    for candidate in [dir + "/spiqa-extract", URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/spiqa-extract"] {
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// all-MiniLM-L6-v2: $SPIQA_MODEL, else models/all-MiniLM-L6-v2 under the package root.
  static var model: String? {
    let env = ProcessInfo.processInfo.environment["SPIQA_MODEL"]
    let path = env ?? packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2").path
    return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
  }

  /// A file under the shared folder (`DefaultPaths.sharedFolder`: $SPIQA_SHARED, else ../shared beside the package).
  static func shared(_ relative: String) -> String? {
    let p = DefaultPaths.sharedFolder() + "/" + relative
    return FileManager.default.fileExists(atPath: p) ? p : nil
  }

  static var squad: String? { shared("data/squad/dev-v1.1.json") }
  static var sst2: String? { shared("data/glue/SST-2/dev.tsv") }
  static var canRunModel: Bool { binary != nil && model != nil && sst2 != nil && squad != nil }

  /// Fixture folder Tests/CLITests/Fixtures/extract in the test bundle.
  static var fixtures: String {
    (Bundle.module.resourceURL?.appendingPathComponent("Fixtures/extract").path)
      ?? packageRoot.appendingPathComponent("Tests/CLITests/Fixtures/extract").path
  }

  struct Result {
    var status: Int32
    /// True when the process ended by a signal (`status` is then the signal number).
    var signaled: Bool
    var stdout: Data
    var stderr: String
  }

  /// Runs the tool; `readLimit` closes standard output after that many bytes (like `| head -c N`).
  static func run(_ args: [String], readLimit: Int? = nil) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try #require(binary, "spiqa-extract not built"))
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    var stdout = Data()
    if let limit = readLimit {
      while stdout.count < limit, let chunk = try out.fileHandleForReading.read(upToCount: limit - stdout.count),
        !chunk.isEmpty
      {
        stdout.append(chunk)
      }
      try out.fileHandleForReading.close()
    } else {
      stdout = out.fileHandleForReading.readDataToEndOfFile()
    }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, stdout: stdout,
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Every record of a stream file as (meta, floats, shape); headers have no floats.
  static func read(_ path: String) throws -> (headers: [JSONObject], tensors: [(meta: JSONObject, values: [Float], shape: [Int])]) {
    let r = try RecordReader(path: path)
    var headers: [JSONObject] = []
    var tensors: [(JSONObject, [Float], [Int])] = []
    while let rec = try r.next() {
      switch rec {
      case .header(let h): headers.append(h)
      case .tensor(let meta, let array): tensors.append((meta, try array.floats(), array.shape))
      }
    }
    return (headers, tensors)
  }

  /// A fresh temporary directory.
  static func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-extract-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
  }
}

/// A case of scripts/make_extract_fixtures.py: records with max/projection checks and some full tensors.
struct ExtractCLIFixture {
  let records: [[String: Any]]
  let meta: [String: Any]
  private let index: [String: (offset: Int, count: Int)]
  private let data: [Float]

  init(_ name: String) throws {
    let json = try Data(contentsOf: URL(fileURLWithPath: ExtractCLI.fixtures + "/\(name).json"))
    let obj = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    meta = try #require(obj["meta"] as? [String: Any])
    records = try #require(meta["records"] as? [[String: Any]])
    var idx: [String: (Int, Int)] = [:]
    for (k, v) in try #require(obj["arrays"] as? [String: [String: Any]]) {
      idx[k] = (try #require(v["offset"] as? Int), try #require(v["shape"] as? [Int]).reduce(1, *))
    }
    index = idx
    let raw = try Data(contentsOf: URL(fileURLWithPath: ExtractCLI.fixtures + "/\(name).bin"))
    data = raw.withUnsafeBytes { b in
      (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
  }

  func array(_ key: String) throws -> [Float] {
    let e = try #require(index[key], "no array \(key)")
    return Array(data[e.offset..<(e.offset + e.count)])
  }

  /// Largest |difference| between a `[L, H, n, n]` tensor and the record's max/projection (and full) checks.
  func maxError(record r: [String: Any], values a: [Float]) throws -> Float {
    let key = try #require(r["key"] as? String), n = try #require(r["n"] as? Int)
    let maxes = try array(key + ".max"), proj = try array(key + ".proj")
    #expect(a.count == maxes.count * n * n)
    guard a.count == maxes.count * n * n else { return .infinity }
    let w = (0..<n).map { Double((7919 * $0) % 101) / 101 }
    var err: Float = 0
    for k in 0..<maxes.count {
      var m = -Float.infinity
      for row in 0..<n {
        var s = 0.0
        for c in 0..<n {
          let v = a[(k * n + row) * n + c]
          m = max(m, v)
          s += Double(v) * w[c]
        }
        err = max(err, abs(Float(s) - proj[k * n + row]))
      }
      err = max(err, abs(m - maxes[k]))
    }
    if r["full"] as? Bool == true {
      let ref = try array(key + ".full")
      for i in ref.indices { err = max(err, abs(ref[i] - a[i])) }
    }
    return err
  }
}
