import ArgumentParser
import SpiqaCLI
import SpiqaCore
import SpiqaHub
import SpiqaIO
import SpiqaQuant
import SpiqaTasks

/// The flags as an `EvalRequest`: validation and the transform, with the flag named in every message.
extension Eval {
  static func wholeNumber(_ text: String?, _ flag: String) throws -> Int? {
    guard let text else { return nil }
    guard let d = Double(text), d.isFinite, d == d.rounded(), d >= 0, d <= 64 else {
      throw ValidationError("\(flag) expects a whole number of bits, got '\(text)'")
    }
    return Int(d)
  }

  mutating func validate() throws {
    if !merge.isEmpty {
      guard shard == nil else { throw ValidationError("--merge takes the shards' files; it cannot be combined with --shard") }
      return
    }
    guard model != nil else { throw ValidationError("Missing expected argument '--model <dir>'") }
    if let shard {
      do {
        _ = try Shard(parsing: shard)
      } catch let e as TasksError {
        throw ValidationError("--shard: \(e.description)")
      }
    }
    guard TaskRegistry.names.contains(task) else {
      throw ValidationError("--task '\(task)' is unknown; expected one of \(TaskRegistry.names.joined(separator: ", "))")
    }
    try columns.validate(task: task)
    if let m = method, QuantMethod(name: m) == nil {
      throw ValidationError("--method '\(m)' is unknown; expected one of \(QuantMethod.validNames)")
    }
    guard QuantVariant(rawValue: variant) != nil else {
      throw ValidationError("--variant must be reference or corrected")
    }
    _ = try Self.wholeNumber(bits, "--bits")
    _ = try Self.wholeNumber(hsBits, "--hs-bits")
    if model == "-" { throw ValidationError("--model takes a folder or a Hub id, not - (standard input)") }
    if data == "-" && replay == "-" {
      throw ValidationError("--data - and --replay - both read standard input; give one of them as a file")
    }
    if perExample == "-" {
      throw ValidationError("--per-example -: standard output carries the result line; give a file path")
    }
    try FlagLimits.check("--batch-size", batchSize, atMost: FlagLimits.batchSize)
    for (flag, v) in [("--max-seq-len", maxSeqLen), ("--doc-stride", docStride), ("--max-query-len", maxQueryLen),
                      ("--max-answer-len", maxAnswerLen)] {
      try FlagLimits.check(flag, v, atMost: FlagLimits.tokens)
    }
  }

  /// The flags as an `EvalRequest`.
  /// - Throws: `TasksError.usage` naming the flag.
  func request() throws -> EvalRequest {
    let t = try TaskRegistry.task(named: task)
    var r = EvalRequest(
      task: task, modelDirectory: model ?? "",
      dataPath: try DefaultPaths.dataPath(data, task: task, defaultFile: t.defaultDataFile, hint: t.dataHint))
    let quiet = self.quiet
    r.locateModel = { try resolveModelDirectory($0, quiet: quiet) }
    do {
      r.selection = try Selection(samples: samples, limit: limit, offset: offset, seed: seed)
    } catch let e as TasksError {
      throw TasksError.usage("--samples/--limit/--offset: \(e.description)")
    }
    r.shard = try shard.map { try Shard(parsing: $0) }
    r.transform = try transform()
    r.replayPath = replay
    r.settings.squad = SquadFeaturizer(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
    r.settings.maxAnswerLen = maxAnswerLen
    r.settings.nullScoreThreshold = nullThreshold
    r.settings.batchSize = batchSize
    r.settings.textColumn = columns.textColumn
    r.settings.pairColumn = columns.pairColumn
    r.settings.labelColumn = columns.labelColumn
    r.settings.pairs = columns.pairs
    return r
  }

  /// `--merge`: the unsharded result line from the shards' per-example files (and their merged lines).
  func runMerge() throws {
    let merged = try EvalMerge.merge(paths: merge)
    if let perExample {
      let file = try AtomicFile(path: perExample)
      for line in merged.perExampleLines { try file.write(Array((line + "\n").utf8)) }
      try file.commit()
    }
    print(JSONValue.object(merged.result).jsonText)
  }

  /// The transform flags; `-aq B` alone selects the paper's quantizer, binarization needs no bits.
  /// - Throws: `TasksError.usage` naming the flag.
  func transform() throws -> AttentionTransform {
    let b = try Self.wholeNumber(bits, "--bits")
    let hsBits = try Self.wholeNumber(self.hsBits, "--hs-bits") ?? 0
    var quantizer: AttentionQuantizer?
    if let m = method.flatMap({ QuantMethod(name: $0) }) ?? (b != nil && b != 0 ? .linearSlogClampedMidval : nil) {
      guard let b = b ?? (m == .binarization ? 1 : nil) else {
        throw TasksError.usage("--method \(m.rawValue) needs --bits")
      }
      do {
        quantizer = try AttentionQuantizer(method: m, bits: b, variant: QuantVariant(rawValue: variant) ?? .reference)
      } catch {
        throw TasksError.usage("--bits: \(error)")
      }
    }
    guard threshold >= 0, hsThreshold >= 0 else { throw TasksError.usage("thresholds must be ≥ 0") }
    guard hsBits == 0 || hsBits >= 7 else {
      throw TasksError.usage(
        "--hs-bits \(hsBits): the fixed-point hidden-state quantizer needs ≥ 7 bits (1 sign + 5 integer + fraction)")
    }
    return AttentionTransform(threshold: threshold, quantizer: quantizer, hsThreshold: hsThreshold, hsBits: hsBits)
  }
}
