import Foundation
import SpiqaCore
import SpiqaTestSupport
import Testing

/// ALBERT and XLM-RoBERTa from text: the tiny family checkpoints of scripts/make_family_fixtures.py with a small
/// Unigram tokenizer.json written here (letters and ▁, lower-cased; the family's special tokens and template), run
/// through spiqa-extract; a folder with only a SentencePiece model is refused in one line.
@Suite(.enabled(if: EvalCLI.canRun && TestPaths.tool("spiqa-extract") != nil, "needs the built tools"))
struct SentencePieceCLITests {
  static let families = TestPaths.packageRoot.appendingPathComponent("Tests/SpiqaModelTests/Fixtures/model").path

  /// A Unigram tokenizer.json shaped like albert-base-v2's (`albert`) or xlm-roberta-base's.
  static func tokenizerJSON(albert: Bool) throws -> Data {
    let specials = albert ? ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"] : ["<s>", "<pad>", "</s>", "<unk>"]
    var vocab: [[Any]] = specials.map { [$0, 0.0] } + (["\u{2581}"] + "abcdefghijklmnopqrstuvwxyz".map(String.init)).map { [$0, -2.0] }
    if !albert { vocab.append(["<mask>", 0.0]) }
    let (first, sep) = albert ? ("[CLS]", "[SEP]") : ("<s>", "</s>")
    func special(_ s: String, _ type: Int) -> [String: Any] { ["SpecialToken": ["id": s, "type_id": type]] }
    func sequence(_ s: String, _ type: Int) -> [String: Any] { ["Sequence": ["id": s, "type_id": type]] }
    let pair = albert
      ? [special(first, 0), sequence("A", 0), special(sep, 0), sequence("B", 1), special(sep, 1)]
      : [special(first, 0), sequence("A", 0), special(sep, 0), special(sep, 0), sequence("B", 0), special(sep, 0)]
    let json: [String: Any] = [
      "added_tokens": (specials + (albert ? [] : ["<mask>"])).map { s in
        ["id": vocab.firstIndex { $0[0] as! String == s }!, "content": s, "special": true, "lstrip": false, "rstrip": false]
      },
      "normalizer": ["type": "Lowercase"],
      "pre_tokenizer": ["type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true],
      "post_processor": [
        "type": "TemplateProcessing", "single": [special(first, 0), sequence("A", 0), special(sep, 0)], "pair": pair,
      ],
      "model": ["type": "Unigram", "unk_id": albert ? 1 : 3, "vocab": vocab],
    ]
    return try JSONSerialization.data(withJSONObject: json)
  }

  @Test(arguments: [("albert", true, 24), ("xlm-roberta", false, 25)])
  func extractFromText(family: String, albert: Bool, pairLength: Int) throws {
    let dir = EvalCLI.temp("")
    try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for f in ["config.json", "model.safetensors"] {
      try FileManager.default.copyItem(atPath: "\(Self.families)/tiny-\(family)-qa-f32/\(f)", toPath: "\(dir)/model/\(f)")
    }
    try Self.tokenizerJSON(albert: albert).write(to: URL(fileURLWithPath: dir + "/model/tokenizer.json"))
    let (data, lines) = (dir + "/pairs.txt", dir + "/lines.txt")
    try Data("Hello world\tGood day\n".utf8).write(to: URL(fileURLWithPath: data))
    try Data("Hello world\n".utf8).write(to: URL(fileURLWithPath: lines))
    let common = ["-q", "--model", dir + "/model", "--task", "text", "--data", data]
    // ▁ h e l l o ▁ w o r l d between the two specials; the pair adds ▁ g o o d ▁ d a y and one or two separators.
    let single = try EvalCLI.run("spiqa-extract", ["-q", "--model", dir + "/model", "--task", "text", "--data", lines, "--list"])
    #expect(single.status == 0, "\(single.stderr)")
    #expect(single.text.contains("0\ttext-0\t0\t14"), "\(single.text)")
    let pair = try EvalCLI.run("spiqa-extract", common + ["--pairs", "--list"])
    #expect(pair.text.contains("0\ttext-0\t0\t\(pairLength)"), "\(pair.text)")
    let out = dir + "/out.npy.gz"
    let x = try EvalCLI.run("spiqa-extract", common + ["--pairs", "--tokens", "-o", out])
    #expect(x.status == 0, "\(x.stderr)")
    #expect(FileManager.default.fileExists(atPath: out))

    // Without tokenizer.json, the SentencePiece protobuf alone is refused in one line.
    try FileManager.default.removeItem(atPath: dir + "/model/tokenizer.json")
    try Data([0x0A, 0x00]).write(to: URL(fileURLWithPath: dir + "/model/" + (albert ? "spiece.model" : "sentencepiece.bpe.model")))
    let refused = try EvalCLI.run("spiqa-extract", common + ["-o", out + "2"])
    #expect(refused.status == 65, "\(refused.stderr)")
    #expect(refused.stderr.contains("tokenizer.json") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
  }
}
