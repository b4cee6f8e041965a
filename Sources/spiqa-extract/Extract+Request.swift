import ArgumentParser
import SpiqaCLI
import SpiqaIO
import SpiqaQuant
import SpiqaTaskCLI
import SpiqaTasks

#if canImport(Glibc)
import Glibc
#endif

/// The flags as an `ExtractionRequest`: the shared option groups validate their own flags (docs/cli.md); this
/// checks the ones only extraction has, with the flag named in every message.
extension Extract {
  mutating func checkFlags() throws {
    if model == "-" { throw ValidationError("--model takes a model folder, not - (standard input)") }
    _ = try options()
    var t = try transform.transform()
    try transformSelection.apply(to: &t)
    if !list, output.output == nil || namesStandardOutput(output.output), isatty(1) != 0 {
      throw ValidationError("refusing to write a binary stream to a terminal; use --output FILE or a pipe")
    }
    if let maxLength, maxLength < 2 {
      throw ValidationError("--max-length must be at least 2 ([CLS] and [SEP]), got \(maxLength)")
    }
    try FlagLimits.check("--max-length", maxLength, atMost: FlagLimits.tokens)
    try checkDistinctOutputs(
      [("--output", output.output)],
      sparing: [("--data", try? taskOptions.dataPath()), ("--transform-mask", transformSelection.transformMask)])
  }

  /// The recording flags (argument errors become usage errors).
  func options() throws -> ExtractionOptions {
    var o = ExtractionOptions()
    o.layers = try recorded.layerIndices()
    o.heads = try recorded.headIndices()
    switch dtype {
    case "f32", "f4", "float32": o.dtype = .float32
    case "f16", "f2", "float16": o.dtype = .float16
    default: throw ValidationError("--dtype must be f32 or f16, got '\(dtype)'")
    }
    o.hiddenStates = hiddenStates
    o.tokens = tokens
    o.attentionProduct = try product.kernel()
    return o
  }

  /// Fills in everything but the task and paths.
  func configure(_ r: inout ExtractionRequest) throws {
    r.selection = try selection.selection()
    r.shard = try selection.parsedShard()
    r.transform = try transform.transform()
    try transformSelection.apply(to: &r.transform)
    try hidden.apply(to: &r.transform)
    r.options = try options()
    r.trimPadding = trimPadding
    taskOptions.apply(to: &r.settings)
    r.settings.maxLength = maxLength
    r.threads = threads.threads
    r.version = Extract.version
    let dataPath = r.dataPath
    r.provenance = { folder, weights in
      Provenance.object(tool: "spiqa-extract", modelFolder: folder, weightsFile: weights, dataPath: dataPath)
    }
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
