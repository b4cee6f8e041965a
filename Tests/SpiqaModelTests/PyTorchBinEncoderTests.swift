import Foundation
import Testing

@testable import SpiqaModel

/// The PyTorch `.bin` checkpoints run through the encoder: same outputs as their safetensors twins and as
/// transformers (Fixtures/pytorch/reference-outputs.json, written by scripts/make_bin_fixtures.py).
@Suite("PyTorchBinEncoder")
struct PyTorchBinEncoderTests {
  struct Reference: Decodable {
    let input_ids: [[Int]]
    let token_type_ids: [[Int]]?
    let lengths: [Int]
    let start_logits: [[Float]]?
    let end_logits: [[Float]]?
    let logits: [[Float]]?
  }

  static func fixtures() throws -> URL {
    try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/pytorch")
  }

  static func run(_ folder: String, _ ref: Reference) throws -> (Checkpoint, EncoderOutput) {
    let dir = try fixtures().appendingPathComponent(folder).path
    let checkpoint = try Checkpoint(directory: dir)
    let encoder = try Encoder(checkpoint: checkpoint, maxBatch: 2, maxSeqLen: 16)
    let batch = EncoderBatch(inputIds: ref.input_ids, lengths: ref.lengths, tokenTypeIds: ref.token_type_ids)
    return (checkpoint, try encoder.forward(batch, outputHiddenStates: true))
  }

  /// Largest |a − b|; infinite when the lengths differ.
  static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  @Test(".bin and safetensors twins give the same outputs; both match transformers", arguments: ["bert-qa", "roberta-cls"])
  func twins(name: String) throws {
    let data = try Data(contentsOf: try Self.fixtures().appendingPathComponent("reference-outputs.json"))
    let ref = try #require(try JSONDecoder().decode([String: Reference].self, from: data)[name])
    let (binCheckpoint, bin) = try Self.run("\(name)-bin", ref)
    let (_, st) = try Self.run("\(name)-st", ref)
    #expect(binCheckpoint.weightsPath.hasSuffix("pytorch_model.bin"))
    #expect(binCheckpoint.weights is PyTorchBinFile)
    #expect(Self.maxDiff(bin.lastHiddenState, st.lastHiddenState) <= 1e-6)
    #expect(bin.lastHiddenState.count == st.lastHiddenState.count && !bin.lastHiddenState.isEmpty)
    let (binStates, stStates) = (try #require(bin.hiddenStates), try #require(st.hiddenStates))
    #expect(binStates.count == stStates.count && !binStates.isEmpty)
    for (a, b) in zip(binStates, stStates) { #expect(Self.maxDiff(a, b) <= 1e-6) }
    for (b, n) in ref.lengths.enumerated() {
      if let start = ref.start_logits, let end = ref.end_logits {
        let s = try #require(bin.startLogits), e = try #require(bin.endLogits)
        let ss = try #require(st.startLogits), se = try #require(st.endLogits)
        #expect(Self.maxDiff(Array(s[b][..<n]), Array(ss[b][..<n])) <= 1e-6)
        #expect(Self.maxDiff(Array(e[b][..<n]), Array(se[b][..<n])) <= 1e-6)
        #expect(Self.maxDiff(Array(s[b][..<n]), start[b]) <= 1e-4, "start logits vs transformers, row \(b)")
        #expect(Self.maxDiff(Array(e[b][..<n]), end[b]) <= 1e-4, "end logits vs transformers, row \(b)")
      }
      if let logits = ref.logits {
        let l = try #require(bin.logits), ls = try #require(st.logits)
        #expect(Self.maxDiff(l[b], ls[b]) <= 1e-6)
        #expect(Self.maxDiff(l[b], logits[b]) <= 1e-5, "logits vs transformers, row \(b)")
      }
    }
  }
}
