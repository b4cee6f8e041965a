import SpiqaCore
import SpiqaIO
import SpiqaQuant
import Testing

/// The one writer of transform metadata: each preset spells the keys the way its place always has, and the reader
/// gets the transform back.
@Suite struct TransformMetadataTests {
  static func transform(_ method: QuantMethod?, bits: Int = 3, variant: QuantVariant = .reference,
                        threshold: Double = 0, scope: QuantScope = .batch) throws -> AttentionTransform
  {
    AttentionTransform(
      threshold: threshold, quantizer: try method.map { try AttentionQuantizer(method: $0, bits: bits, variant: variant) },
      scope: scope)
  }

  @Test func withoutAQuantizerEachPresetWritesItsKeys() throws {
    let t = AttentionTransform(threshold: 0.05)
    #expect(TransformMetadata.extractedRecord.object(t)
      == ["threshold": 0.05, "method": .null, "bits": .null, "scope": "batch"])
    #expect(TransformMetadata.extractionHeader.object(t) == TransformMetadata.extractedRecord.object(t))
    #expect(TransformMetadata.quantizedRecord.object(t)
      == ["threshold": 0.05, "method": .null, "bits": .null, "scope": .null])
    #expect(TransformMetadata.quantizeHeader.object(t) == ["threshold": 0.05])
    #expect(TransformMetadata.quantizeReport.object(t) == ["threshold": 0.05, "method": .null])
    #expect(TransformMetadata.evalResult.object(t)
      == ["threshold": 0.05, "method": .null, "bits": .null, "scope": .null, "hs_threshold": 0.0, "hs_bits": 0])
  }

  @Test func variantIsWrittenForReferenceOnlyWhereItAlwaysWas() throws {
    let reference = try Self.transform(.linearSlogClampedMidval)
    let corrected = try Self.transform(.linearSlogClampedMidval, variant: .corrected)
    #expect(TransformMetadata.extractedRecord.object(reference)["variant"] == nil)
    #expect(TransformMetadata.extractedRecord.object(corrected)["variant"] == "corrected")
    for style in [TransformMetadata.extractionHeader, .quantizedRecord, .quantizeHeader, .quantizeReport, .evalResult] {
      #expect(style.object(reference)["variant"] == "reference")
    }
  }

  @Test func scopeIsNullForElementwiseMethodsInQuantizeOutputs() throws {
    let elementwise = try Self.transform(.linearSlogMidval, scope: .example)
    let dataDependent = try Self.transform(.uniformSlogMean, scope: .example)
    #expect(TransformMetadata.extractedRecord.object(elementwise)["scope"] == "example")
    #expect(TransformMetadata.quantizedRecord.object(elementwise)["scope"] == .null)
    #expect(TransformMetadata.quantizedRecord.object(dataDependent)["scope"] == "example")
    // The result line names the scope where it changes the numbers (shards of different scopes do not merge).
    #expect(TransformMetadata.evalResult.object(dataDependent)["scope"] == "example")
    #expect(TransformMetadata.evalResult.object(elementwise)["scope"] == .null)
  }

  @Test func thresholdsAreSpelledAsAppliedOrAsGiven() throws {
    let t = AttentionTransform(threshold: 0.123456789, hsThreshold: 0.05, hsBits: 8)
    let applied = TransformMetadata.extractedRecord.object(t)
    #expect(applied["threshold"] == .double(0.12345679))  // the float32 value's shortest decimal
    #expect(applied["hs_threshold"] == .double(0.05))
    #expect(applied["hs_bits"] == 8)
    #expect(TransformMetadata.quantizedRecord.object(t)["threshold"] == .double(0.123456789))
    #expect(TransformMetadata.quantizedRecord.object(t)["hs_bits"] == nil)
  }

  @Test func keysAStyleDoesNotWriteAreLeftAsTheyAre() throws {
    var m: JSONObject = ["variant": "corrected", "hs_bits": 8, "example_id": "x"]
    TransformMetadata.quantizedRecord.write(AttentionTransform(threshold: 0.01), into: &m)
    #expect(m["variant"] == "corrected" && m["hs_bits"] == 8 && m["example_id"] == "x")
    #expect(m["method"] == .null)
  }

  @Test(arguments: [
    TransformMetadata.extractedRecord, .extractionHeader, .quantizedRecord, .quantizeHeader, .quantizeReport,
  ])
  func readGetsTheTransformBack(_ style: TransformMetadata) throws {
    for t in [
      AttentionTransform(threshold: 0.05),
      try Self.transform(.linearSlogClampedMidval, bits: 3, variant: .corrected, threshold: 0.001),
      try Self.transform(.binarization, bits: 1, scope: .record),
    ] {
      let back = try TransformMetadata.read(style.object(t))
      #expect(back.threshold == t.threshold)
      #expect(back.quantizer?.method == t.quantizer?.method && back.quantizer?.bits == t.quantizer?.bits)
      #expect(back.quantizer?.variant == t.quantizer?.variant)
      if t.takesScopeStatistics { #expect(back.scope == t.scope) }
    }
  }

  @Test func readRefusesUnknownValues() throws {
    #expect(throws: QuantError.self) { try TransformMetadata.read(["method": "cubic", "bits": 3]) }
    #expect(throws: QuantError.self) { try TransformMetadata.read(["method": "log", "bits": 40]) }
    #expect(throws: QuantError.self) { try TransformMetadata.read(["scope": "row"]) }
    #expect(throws: QuantError.self) { try TransformMetadata.read(["threshold": "high"]) }
    let t = try TransformMetadata.read(["hs_threshold": 0.1, "hs_bits": 8, "method": .null])
    #expect(t.hsThreshold == 0.1 && t.hsBits == 8 && t.quantizer == nil && t.scope == .batch)
  }

  @Test func upstreamKeysAreCopiedVerbatim() throws {
    let m: JSONObject = ["threshold": 0, "method": "linear_slog_midval", "bits": 3, "scope": "batch", "n": 4]
    #expect(TransformMetadata.isTransformed(m))
    #expect(TransformMetadata.recordedKeys(m) == ["threshold": 0, "method": "linear_slog_midval", "bits": 3, "scope": "batch"])
    #expect(!TransformMetadata.isTransformed(["threshold": 0, "method": .null]))
    #expect(TransformMetadata.isTransformed(["threshold": 0.01]))
  }
}
