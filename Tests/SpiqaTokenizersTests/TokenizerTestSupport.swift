import CZlib
import Foundation
import Testing

@testable import SpiqaTokenizers
import SpiqaTestSupport

/// Shared helpers of the tokenizer tests: fixture and data locations, the fixture hash, SQuAD text.
enum TokFixtures {
  /// Tests/SpiqaTokenizersTests/Fixtures/tokenizers (bundle copy if present, else the source tree).
  static let directory: URL = {
    if let r = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/tokenizers"),
      FileManager.default.fileExists(atPath: r.path)
    {
      return r
    }
    return TestPaths.packageRoot.appendingPathComponent("Tests/SpiqaTokenizersTests/Fixtures/tokenizers")
  }()

  static func data(_ name: String) throws -> Data {
    try Data(contentsOf: directory.appendingPathComponent(name))
  }

  /// A gzipped fixture inflated into a temporary file (removed by the caller); its path.
  static func gunzipped(_ name: String) throws -> URL {
    var input = [UInt8](try data(name))
    var out: [UInt8] = []
    var zs = z_stream()
    guard spiqa_inflateInit2(&zs, 31) == Z_OK else { throw CocoaError(.fileReadCorruptFile) }
    defer { inflateEnd(&zs) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var status = Z_OK
    input.withUnsafeMutableBufferPointer { inp in
      zs.next_in = inp.baseAddress
      zs.avail_in = uInt(inp.count)
      repeat {
        chunk.withUnsafeMutableBufferPointer { c in
          zs.next_out = c.baseAddress
          zs.avail_out = uInt(c.count)
          status = inflate(&zs, Z_NO_FLUSH)
          out.append(contentsOf: c[0..<(c.count - Int(zs.avail_out))])
        }
      } while status == Z_OK
    }
    guard status == Z_STREAM_END else { throw CocoaError(.fileReadCorruptFile) }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-\(UUID().uuidString)-\(name.dropLast(3))")
    try Data(out).write(to: url)
    return url
  }

  /// SPIQA_SHARED, else ../shared next to the package root.
  static var shared: String? { TestPaths.shared }

  /// SPIQA_MODEL, else models/all-MiniLM-L6-v2 under the package root.
  static var model: String? { TestPaths.miniLM }

  static var robertaDir: String? {
    guard let s = shared else { return nil }
    let d = s + "/data/roberta-base"
    return FileManager.default.fileExists(atPath: d + "/merges.txt") ? d : nil
  }

  static var squadPath: String? {
    guard let s = shared else { return nil }
    let p = s + "/data/squad/dev-v1.1.json"
    return FileManager.default.fileExists(atPath: p) ? p : nil
  }

  static let minilm: WordPieceTokenizer? = model.flatMap { try? WordPieceTokenizer.load(directory: $0) }
  static let roberta: ByteLevelBPETokenizer? = robertaDir.flatMap {
    try? ByteLevelBPETokenizer(vocabFile: $0 + "/vocab.json", mergesFile: $0 + "/merges.txt")
  }

  /// The fixture hash (scripts/make_tokenizer_fixtures.py `fnv`).
  static func hash<S: Sequence>(_ values: S) -> UInt64 where S.Element == UInt32 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for v in values {
      h ^= UInt64(v)
      h = h &* 0x100_0000_01b3
      h ^= h >> 32
    }
    return h
  }

  /// Contexts then questions of SQuAD v1.1 dev, in file order.
  static func squadTexts(_ path: String) throws -> (contexts: [String], questions: [String]) {
    struct File: Decodable { var data: [Article] }
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Paragraph: Decodable { var context: String; var qas: [QA] }
    struct QA: Decodable { var question: String }
    let f = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    var contexts: [String] = []
    var questions: [String] = []
    for a in f.data {
      for p in a.paragraphs {
        contexts.append(p.context)
        questions.append(contentsOf: p.qas.map(\.question))
      }
    }
    return (contexts, questions)
  }

  /// squad.py's whitespace split of a context: space, \t, \r, \n and U+202F.
  static func squadWords(_ text: String) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      if s == " " || s == "\t" || s == "\r" || s == "\n" || s.value == 0x202F {
        if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
      } else {
        current.append(s)
      }
    }
    if !current.isEmpty { words.append(String(current)) }
    return words
  }

  /// One `squad_<set>.bin` record.
  struct Record { var count: UInt32; var hasOffsets: Bool; var idsHash: UInt64; var offsetsHash: UInt64 }

  static func records(_ set: String) throws -> [Record] {
    let d = [UInt8](try data("squad_\(set).bin"))
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(d[o + $1]) << (8 * $1) } }
    func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(d[o + $1]) << (8 * $1) } }
    return stride(from: 0, to: d.count - 23, by: 24).map {
      Record(count: u32($0), hasOffsets: u32($0 + 4) & 1 == 1, idsHash: u64($0 + 8), offsetsHash: u64($0 + 16))
    }
  }

  /// edge_cases.json
  struct Edge: Decodable {
    struct Row: Decodable {
      var tokens: [String]
      var ids: [Int]
      var fast_ids: [Int]?
      var offsets: [[Int]]?
    }
    struct Pair: Decodable { var ids: [Int]; var token_type_ids: [Int]?; var fast_ids: [Int]? }
    struct Pairs: Decodable { var a: String; var b: String; var bert: Pair; var roberta: Pair }
    struct RandomRow: Decodable { var ids: [Int]; var offsets: [[Int]]? }
    struct Random: Decodable {
      var texts: [String]
      var bert: [RandomRow]
      var bert_per_scalar_lower: [RandomRow]
      var roberta: [RandomRow]
      var roberta_prefix_space: [RandomRow]
    }
    var texts: [String]
    var configs: [String: [Row]]
    var pairs: Pairs
    /// Deterministic random strings over rule-stressing code points (ids, offsets where fast agrees).
    var random: Random
  }

  /// Compares one tokenizer with reference rows; returns the number of offset references used.
  @discardableResult
  static func expectRows(_ t: any Tokenizer, _ texts: [String], _ rows: [Edge.RandomRow], _ label: String) -> Int {
    var withOffsets = 0
    #expect(texts.count == rows.count, "\(label): \(texts.count) texts, \(rows.count) reference rows")
    for (text, row) in zip(texts, rows) {
      let got = t.tokenize(text)
      #expect(got.map(\.id) == row.ids, "\(label) \(text.debugDescription)")
      if let offs = row.offsets, got.map(\.id) == row.ids {
        withOffsets += 1
        #expect(got.map { [$0.scalarRange.lowerBound, $0.scalarRange.upperBound] } == offs, "\(label) offsets \(text.debugDescription)")
      }
    }
    #expect(texts.count == rows.count)
    return withOffsets
  }

  static func edge() throws -> Edge { try JSONDecoder().decode(Edge.self, from: data("edge_cases.json")) }
}
