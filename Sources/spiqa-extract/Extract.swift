import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaIO
import SpiqaModel
import SpiqaQuant
import SpiqaTasks
import SpiqaTokenizers

extension TasksError: ToolError {}
extension SpiqaModelError: ToolError {}
extension TokenizerError: ToolError {}

/// `spiqa-extract`: run a BERT/RoBERTa model over SQuAD, SST-2 or text lines and stream its attention.
@main
struct Extract: ParsableCommand {
  static let version = "0.1.0"
  static let configuration = CommandConfiguration(
    commandName: "spiqa-extract",
    abstract: "Stream attention (and hidden states) out of a BERT/RoBERTa model over SQuAD, SST-2 or plain text.",
    discussion: """
      Writes one record per sequence (SQuAD feature, SST-2 sentence, text line): attention [layers, heads, n, n] \
      for the n real tokens, after any pruning/quantization applied on the fly (what the model used). The stream \
      format is in docs/stream-format.md; usage in docs/extract.md.
      """,
    version: version)

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (default: models/all-MiniLM-L6-v2 from make setup).", valueName: "dir"))
  var model: String?

  @Option(help: ArgumentHelp("What to run on: squad, sst2 or text (one sequence per line).", valueName: "task"))
  var task: String = "squad"

  @Option(help: ArgumentHelp("Data file (default: $SPIQA_SHARED or ../shared: data/squad/dev-v1.1.json, data/glue/SST-2/dev.tsv; - = stdin for text).", valueName: "path"))
  var data: String?

  @Option(name: [.customLong("samples"), .customLong("sa", withSingleDash: true)],
          help: ArgumentHelp("Python-compatible random.seed(123); random.sample of N examples (the paper's -sa).", valueName: "n"))
  var samples: Int?

  @Option(help: ArgumentHelp("Run at most N examples (from --offset).", valueName: "n"))
  var limit: Int?

  @Option(help: ArgumentHelp("Skip the first N examples.", valueName: "n"))
  var offset: Int?

  @Option(help: ArgumentHelp("Layers to record, e.g. 0,3-5 (default: all).", valueName: "list"))
  var layers: String?

  @Option(help: ArgumentHelp("Heads to record, e.g. 0-3 (default: all).", valueName: "list"))
  var heads: String?

  @Option(help: ArgumentHelp("Payload type: f32 or f16.", valueName: "type"))
  var dtype: String = "f32"

  @Option(name: [.long, .customLong("at", withSingleDash: true)],
          help: ArgumentHelp("Prune attention in every layer: p > T kept, the rest 0 (0 = off).", valueName: "t"))
  var threshold: Double = 0

  @Option(help: ArgumentHelp("Attention quantizer (reference name or alias such as log-pruned; default with --bits: log-pruned).", valueName: "name"))
  var method: String?

  @Option(name: [.long, .customLong("aq", withSingleDash: true)],
          help: ArgumentHelp("Quantize attention in every layer to B bits (1-16).", valueName: "b"))
  var bits: Int?

  @Option(help: ArgumentHelp("Statistics scope of data-dependent quantizers: batch (reference), example or record.", valueName: "scope"))
  var scope: String = "batch"

  @Option(help: ArgumentHelp("Quantizer variant: reference (quirks included) or corrected.", valueName: "variant"))
  var variant: String = "reference"

  @Option(name: [.customLong("hs-threshold"), .customLong("ht", withSingleDash: true)],
          help: ArgumentHelp("Hidden-state threshold on each layer's output: |h| <= T becomes 0 (0 = off).", valueName: "t"))
  var hsThreshold: Double = 0

  @Option(name: [.customLong("hs-bits"), .customLong("hq", withSingleDash: true)],
          help: ArgumentHelp("Fixed-point hidden-state bits on each layer's input (>= 7; 0 = off).", valueName: "b"))
  var hsBits: Int = 0

  @Flag(help: "Also write hidden_states records [layers + 1, n, hidden] after each attention record.")
  var hiddenStates = false

  @Flag(help: "Add tokens and token_ids to each record's metadata.")
  var tokens = false

  @Flag(name: [.customLong("list"), .customLong("dry-run")],
        help: "Print the selected examples and features (TSV) without running the model.")
  var list = false

  @Option(help: ArgumentHelp("Sentences per batch for sst2 and text.", valueName: "n"))
  var batchSize: Int = 20

  @Option(help: ArgumentHelp("SQuAD: tokens per feature (the reference: 320).", valueName: "n"))
  var maxSeqLen: Int = 320

  @Option(help: ArgumentHelp("SQuAD: context tokens between feature starts.", valueName: "n"))
  var docStride: Int = 128

  @Option(help: ArgumentHelp("SQuAD: question tokens kept.", valueName: "n"))
  var maxQueryLen: Int = 64

  @Option(help: ArgumentHelp("sst2/text: tokens per sequence including [CLS]/[SEP] (default: the model's limit).", valueName: "n"))
  var maxLength: Int?

  @Option(help: ArgumentHelp("Compute threads (default: all cores).", valueName: "n"))
  var threads: Int?

  @Flag(name: [.short, .long], help: "No progress on standard error.")
  var quiet = false

  @OptionGroup var output: OutputOptions

  mutating func validate() throws {
    guard ExtractionTask(rawValue: task) != nil else {
      throw ValidationError("--task must be squad, sst2 or text, got '\(task)'")
    }
    _ = try settings()
    if !list, output.output == nil || output.output == "-", isatty(1) != 0 {
      throw ValidationError("refusing to write a binary stream to a terminal; use --output FILE or a pipe")
    }
    if let s = samples, s <= 0 { throw ValidationError("--samples must be ≥ 1, got \(s)") }
    do { _ = try selection() } catch let e as TasksError { throw ValidationError(e.description) }
    for (name, v) in [("--batch-size", batchSize), ("--max-seq-len", maxSeqLen), ("--doc-stride", docStride),
                      ("--max-query-len", maxQueryLen), ("--max-length", maxLength ?? 2), ("--threads", threads ?? 1)]
    where v < 1 {
      throw ValidationError("\(name) must be ≥ 1, got \(v)")
    }
  }

  func selection() throws -> Selection { try Selection(samples: samples, limit: limit, offset: offset) }

  /// The flags as `ExtractionSettings` (argument errors become usage errors).
  func settings() throws -> ExtractionSettings {
    var s = ExtractionSettings()
    s.layers = try layers.map { try parseIndexList($0) }
    s.heads = try heads.map { try parseIndexList($0) }
    switch dtype {
    case "f32", "f4", "float32": s.dtype = .float32
    case "f16", "f2", "float16": s.dtype = .float16
    default: throw ValidationError("--dtype must be f32 or f16, got '\(dtype)'")
    }
    guard threshold >= 0, threshold < 1 else { throw ValidationError("--threshold must be in [0, 1), got \(threshold)") }
    s.threshold = Float(threshold)
    guard let sc = QuantScope(rawValue: scope) else {
      throw ValidationError("--scope must be batch, example or record, got '\(scope)'")
    }
    s.scope = sc
    guard let v = QuantVariant(rawValue: variant) else {
      throw ValidationError("--variant must be reference or corrected, got '\(variant)'")
    }
    if let method, bits == nil { throw ValidationError("--method \(method) needs --bits B") }
    if let bits {
      let name = method ?? "log-pruned"
      guard let m = QuantMethod(name: name) else {
        throw ValidationError("--method: unknown quantizer '\(name)'; expected one of \(QuantMethod.validNames)")
      }
      do {
        s.quantizer = try AttentionQuantizer(method: m, bits: bits, variant: v)
      } catch let e as QuantError {
        throw ValidationError("--bits: \(e.description)")
      }
    }
    guard hsThreshold >= 0 else { throw ValidationError("--hs-threshold must be ≥ 0, got \(hsThreshold)") }
    guard hsBits == 0 || hsBits >= 7 else { throw ValidationError("--hs-bits must be 0 or ≥ 7, got \(hsBits)") }
    s.hsThreshold = Float(hsThreshold)
    s.hsBits = hsBits
    s.hiddenStates = hiddenStates
    s.tokens = tokens
    return s
  }

  func run() throws {
    // OpenBLAS 0.3.21 falls back to its slow generic kernel on CPUs newer than it knows: restart with the right one.
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      let task = ExtractionTask(rawValue: self.task) ?? .squad
      let settings = try settings()
      let selection = try selection()
      // Open the output first: an unwritable path fails before any work.
      let writer = list ? nil : try output.makeWriter()
      let modelPath = try DefaultPaths.resolveModel(model)
      let dataPath = try DefaultPaths.resolveData(data, task: task.rawValue)
      let tokenizer = try loadTaskTokenizer(directory: modelPath)
      let checkpoint = try Checkpoint(directory: modelPath)
      let featurizer = SquadFeaturizer(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
      let maxLen = min(maxLength ?? checkpoint.config.maxSequenceLength, checkpoint.config.maxSequenceLength)
      let source: ExtractionSource
      switch task {
      case .squad:
        guard maxSeqLen <= checkpoint.config.maxSequenceLength else {
          throw TasksError.usage("--max-seq-len \(maxSeqLen) exceeds the model's \(checkpoint.config.maxSequenceLength) positions")
        }
        source = try ExtractionSource(
          squad: SquadDataset(path: dataPath), selection: selection, tokenizer: tokenizer, featurizer: featurizer,
          padToMax: settings.dependsOnPadding)
      case .sst2:
        source = try ExtractionSource(
          sst2: SST2Dataset(path: dataPath), selection: selection, tokenizer: tokenizer, batchSize: batchSize,
          maxLength: maxLen)
      case .text:
        source = try ExtractionSource(
          text: TextLines(path: dataPath), selection: selection, tokenizer: tokenizer, batchSize: batchSize,
          maxLength: maxLen)
      }
      guard let writer else { return try source.listing { print($0) } }

      let extractor = try AttentionExtractor(
        checkpoint: checkpoint, settings: settings,
        maxBatch: task == .squad ? (settings.dependsOnPadding ? 4 : 1) : batchSize,
        maxSeqLen: task == .squad ? maxSeqLen : min(128, maxLen))
      if let threads {
        extractor.threads = threads
      }
      let job = ExtractionJob(source: source, extractor: extractor, tokenizer: tokenizer)
      var extra: JSONObject = [:]
      if task == .squad {
        extra["featurization"] = [
          "max_seq_len": .int(maxSeqLen), "doc_stride": .int(docStride), "max_query_len": .int(maxQueryLen),
          "padding": settings.dependsOnPadding ? "max_seq_len" : "longest",
        ]
      } else {
        extra["featurization"] = ["batch_size": .int(batchSize), "max_length": .int(maxLen), "padding": "longest"]
      }
      try writer.writeHeader(
        job.header(
          producer: "spiqa-extract", version: Extract.version, modelPath: modelPath, dataPath: dataPath,
          selection: selection, extra: extra))
      // SQuAD counts questions (one batch each); sst2/text count sentences.
      var progress = Progress(
        label: "spiqa-extract", total: task == .squad ? source.groupCount : source.selected.count,
        unit: task == .squad ? "questions" : "sequences", enabled: !quiet)
      try job.run(into: writer) { _, _, records in
        progress.advance(by: task == .squad ? 1 : records - progress.count)
      }
      try writer.close()
      progress.finish()
    }
  }
}
