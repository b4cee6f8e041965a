import SpiqaCore
import SpiqaIO
import SpiqaModel

extension Selection {
  /// The `selection` object of a stream header.
  public var headerJSON: JSONObject {
    switch self {
    case .all: return ["mode": "all"]
    case .slice(let offset, let count):
      return ["mode": "slice", "offset": .int(offset), "limit": count.map { .int($0) } ?? .null]
    case .sample(let count, let seed): return ["mode": "sample", "samples": .int(count), "seed": .int(seed)]
    }
  }
}

/// Runs an `ExtractionSource` through an `AttentionExtractor` into a record stream: a header, then per sequence an
/// attention record (and a hidden-state record right after it when asked for).
public struct ExtractionJob {
  public let source: ExtractionSource
  public let extractor: AttentionExtractor
  /// Needed only for `tokens` in the metadata.
  public let tokenizer: TaskTokenizer?

  public init(source: ExtractionSource, extractor: AttentionExtractor, tokenizer: TaskTokenizer?) {
    self.source = source
    self.extractor = extractor
    self.tokenizer = tokenizer
  }

  /// The stream header: producer, model (path + config summary), task, data, selection, settings, layout.
  /// `extra` entries (e.g. featurization parameters) are merged in at the top level.
  public func header(
    producer: String, version: String, modelPath: String, dataPath: String, selection: Selection,
    extra: JSONObject = [:]
  ) -> JSONObject {
    let c = extractor.config
    var model: JSONObject = [
      "path": .string(modelPath), "model_type": .string(c.modelType), "layers": .int(c.numLayers),
      "heads": .int(c.numHeads), "hidden": .int(c.hiddenSize), "intermediate": .int(c.intermediateSize),
      "vocab_size": .int(c.vocabSize), "max_positions": .int(c.maxSequenceLength),
      "weights": .string(extractor.checkpoint.weightsPath),
    ]
    if !c.architectures.isEmpty { model["architectures"] = JSONValue(c.architectures) }
    var h: JSONObject = [
      "producer": .string(producer), "version": .string(version), "model": .object(model),
      "task": .string(source.task), "data": .string(dataPath), "selection": .object(selection.headerJSON),
      "examples": .int(source.selected.count), "dataset_size": .int(source.datasetCount),
      "settings": .object(extractor.options.headerJSON(transform: extractor.transform)),
      "layers": JSONValue(extractor.layers), "heads": JSONValue(extractor.heads),
      "dtype": .string(extractor.options.dtype.rawValue),
      "layout": "attention [layers, heads, n, n] per sequence (real tokens only)",
    ]
    if extractor.options.hiddenStates {
      h["hidden_layout"] = "hidden_states [layers + 1, n, hidden] after the attention record of the same sequence"
    }
    for (k, v) in extra { h[k] = v }
    return h
  }

  /// Writes the records of `groups` (default: all) to `writer` (the header must already be written).
  /// - Parameter progress: called after each group with (groups done, groups to run, records written so far).
  /// - Returns: the number of attention records written.
  @discardableResult
  public func run(
    into writer: RecordWriter, groups: Range<Int>? = nil, progress: ((Int, Int, Int) -> Void)? = nil
  ) throws -> Int {
    var records = 0
    let groups = groups ?? 0..<source.groupCount
    let tokenizer = self.tokenizer
    for g in groups {
      let group = try source.group(g)
      records += try extractor.write(group, to: writer) { tokenizer?.tokens($0) }
      progress?(g + 1 - groups.lowerBound, groups.count, records)
    }
    return records
  }
}
