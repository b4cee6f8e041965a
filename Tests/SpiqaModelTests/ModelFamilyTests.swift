import Foundation
import Testing

import SpiqaCore
import SpiqaModel

/// The model families beyond BERT/RoBERTa against transformers (eager attention) on tiny random checkpoints from
/// scripts/make_family_fixtures.py, with the tolerances of `ModelParityTests`; and the refusal of other families.
@Suite("ModelFamily")
struct ModelFamilyTests {
  static let families = ["distilbert", "electra", "albert", "xlm-roberta"]

  @Test("QA and classifier checkpoints (F32, F16 safetensors; .bin) match transformers",
        arguments: families.flatMap { f in ["qa-f32", "qa-bin", "cls-f32", "cls-f16"].map { "tiny-\(f)-\($0)" } })
  func parity(name: String) throws {
    let dir = try #require(fixtureDirectory)
    let encoder = try Encoder(directory: dir + "/" + name, maxBatch: 4, maxSeqLen: 16)
    let family = try #require(ModelFamily.named(String(name.dropFirst(5).split(separator: "-").dropLast(2)
      .joined(separator: "-"))))
    #expect(encoder.config.family == family)
    if name.contains("-qa-") { #expect(encoder.head == .questionAnswering) }
    if name.contains("-cls-") {
      #expect(encoder.head == .sequenceClassification(labels: ["LABEL_0", "LABEL_1", "LABEL_2"]))
    }
    // The .bin twin holds the F32 weights, so it answers to the F32 reference.
    let reference = name.hasSuffix("-bin") ? name.replacingOccurrences(of: "-bin", with: "-f32") : name
    try ModelParityTests.compare(ReferenceBundle(reference), encoder: encoder).check(name)
  }

  @Test("family specifics are read from config.json")
  func specifics() throws {
    let dir = try #require(fixtureDirectory)
    let albert = try ModelConfig(contentsOf: dir + "/tiny-albert-qa-f32/config.json")
    #expect(albert.numLayers == 3 && albert.layerGroups == 1 && albert.embeddingSize == 16)
    #expect(albert.hiddenAct == .geluTanh && (0..<3).map(albert.layerGroup(of:)) == [0, 0, 0])
    let electra = try ModelConfig(contentsOf: dir + "/tiny-electra-cls-f32/config.json")
    #expect(electra.embeddingSize == 16 && electra.hiddenSize == 32)
    let distil = try ModelConfig(contentsOf: dir + "/tiny-distilbert-cls-f32/config.json")
    #expect(distil.hiddenSize == 32 && distil.intermediateSize == 64 && distil.numLayers == 2 && distil.numHeads == 4)
    #expect(!distil.family.hasTokenTypes && distil.family.template == .clsSep)
    let xlmr = try ModelConfig(contentsOf: dir + "/tiny-xlm-roberta-qa-f32/config.json")
    #expect(xlmr.maxSequenceLength == 40 && xlmr.family.template == .doubleSep)
  }

  @Test("DistilBERT ignores token type ids (its forward takes none)")
  func distilbertTypes() throws {
    let dir = try #require(fixtureDirectory)
    let encoder = try Encoder(directory: dir + "/tiny-distilbert-qa-f32", maxBatch: 1, maxSeqLen: 8)
    let ids = [[2, 10, 11, 12, 3]]
    let plain = try encoder.forward(EncoderBatch(inputIds: ids, lengths: [5]))
    let typed = try encoder.forward(EncoderBatch(inputIds: ids, lengths: [5], tokenTypeIds: [[0, 0, 1, 1, 7]]))
    #expect(plain.startLogits == typed.startLogits)
  }

  @Test("unsupported model_type: one line naming it and the supported list (exit 65)",
        arguments: ["gpt2", "deberta-v2", "t5", ""])
  func refusal(modelType: String) throws {
    let json = #"{"model_type": "\#(modelType)", "hidden_size": 32, "num_hidden_layers": 2, "#
      + #""num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 40, "vocab_size": 128}"#
    let e = #expect(throws: SpiqaModelError.self) { try ModelConfig(json: Data(json.utf8), source: "c.json") }
    let message = e?.description ?? ""
    #expect(e?.kind.exitCode == 65)
    #expect(message.contains("model_type \"\(modelType)\" is not supported"))
    #expect(message.contains("supported: albert, bert, distilbert, electra, roberta, xlm-roberta"))
    #expect(!message.contains("\n"))
    if modelType.hasPrefix("deberta") { #expect(message.contains("DeBERTa")) }
  }
}
