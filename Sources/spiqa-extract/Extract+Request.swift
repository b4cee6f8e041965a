import ArgumentParser
import SpiqaCLI
import SpiqaIO
import SpiqaQuant
import SpiqaTasks

#if canImport(Glibc)
import Glibc
#endif

/// The flags as an `ExtractionRequest`: parsing and validation, with the flag named in every message.
extension Extract {
  mutating func validate() throws {
    guard TaskRegistry.names.contains(task) else {
      throw ValidationError("--task must be one of \(TaskRegistry.names.joined(separator: ", ")), got '\(task)'")
    }
    if model == "-" { throw ValidationError("--model takes a model folder, not - (standard input)") }
    try columns.validate(task: task)
    _ = try options()
    _ = try transform()
    if !list, output.output == nil || output.output == "-", isatty(1) != 0 {
      throw ValidationError("refusing to write a binary stream to a terminal; use --output FILE or a pipe")
    }
    if let s = samples, s <= 0 { throw ValidationError("--samples must be ≥ 1, got \(s)") }
    _ = try selection()
    _ = try parsedShard()
    try FlagLimits.check("--batch-size", batchSize, atMost: FlagLimits.batchSize)
    try FlagLimits.check("--threads", threads, atMost: FlagLimits.threads)
    for (flag, v) in [("--max-seq-len", maxSeqLen), ("--doc-stride", docStride), ("--max-query-len", maxQueryLen),
                      ("--max-length", maxLength)] {
      try FlagLimits.check(flag, v, atMost: FlagLimits.tokens)
    }
  }

  func selection() throws -> Selection {
    do {
      return try Selection(samples: samples, limit: limit, offset: offset, seed: seed)
    } catch let e as TasksError {
      throw ValidationError("--samples/--limit/--offset: \(e.description)")
    }
  }

  func parsedShard() throws -> Shard? {
    do {
      return try shard.map { try Shard(parsing: $0) }
    } catch let e as TasksError {
      throw ValidationError("--shard: \(e.description)")
    }
  }

  /// The recording flags (argument errors become usage errors).
  func options() throws -> ExtractionOptions {
    var o = ExtractionOptions()
    o.layers = try layers.map { try parseIndexList($0) }
    o.heads = try heads.map { try parseIndexList($0) }
    switch dtype {
    case "f32", "f4", "float32": o.dtype = .float32
    case "f16", "f2", "float16": o.dtype = .float16
    default: throw ValidationError("--dtype must be f32 or f16, got '\(dtype)'")
    }
    o.hiddenStates = hiddenStates
    o.tokens = tokens
    return o
  }

  /// The transform flags (argument errors become usage errors).
  func transform() throws -> AttentionTransform {
    guard threshold >= 0, threshold < 1 else { throw ValidationError("--threshold must be in [0, 1), got \(threshold)") }
    guard let sc = QuantScope(rawValue: scope) else {
      throw ValidationError("--scope must be batch, example or record, got '\(scope)'")
    }
    guard let v = QuantVariant(rawValue: variant) else {
      throw ValidationError("--variant must be reference or corrected, got '\(variant)'")
    }
    if let method, bits == nil { throw ValidationError("--method \(method) needs --bits B") }
    var quantizer: AttentionQuantizer?
    if let bits {
      let name = method ?? "log-pruned"
      guard let m = QuantMethod(name: name) else {
        throw ValidationError("--method: unknown quantizer '\(name)'; expected one of \(QuantMethod.validNames)")
      }
      do {
        quantizer = try AttentionQuantizer(method: m, bits: bits, variant: v)
      } catch let e as QuantError {
        throw ValidationError("--bits: \(e.description)")
      }
    }
    guard hsThreshold >= 0 else { throw ValidationError("--hs-threshold must be ≥ 0, got \(hsThreshold)") }
    guard hsBits == 0 || (hsBits >= 7 && hsBits <= 64) else {
      throw ValidationError("--hs-bits must be 0 (off) or 7-64, got \(hsBits)")
    }
    return AttentionTransform(
      threshold: threshold, quantizer: quantizer, scope: sc, hsThreshold: hsThreshold, hsBits: hsBits)
  }

  /// Fills in everything but the task and paths.
  func configure(_ r: inout ExtractionRequest) throws {
    r.selection = try selection()
    r.shard = try parsedShard()
    r.transform = try transform()
    r.options = try options()
    r.settings.squad = SquadFeaturizer(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
    r.settings.batchSize = batchSize
    r.settings.maxLength = maxLength
    r.settings.textColumn = columns.textColumn
    r.settings.pairColumn = columns.pairColumn
    r.settings.labelColumn = columns.labelColumn
    r.settings.pairs = columns.pairs
    r.threads = threads
    r.version = Extract.version
  }

  /// Runs `body`, naming the flag of a layer or head the model lacks.
  func namingFlags(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let e as SelectionError {
      let what = e.axis.rawValue
      throw TasksError.usage(
        "--\(what)s: \(what) \(e.index) does not exist (the model has \(e.available.count): 0-\(e.available.count - 1))")
    }
  }
}
