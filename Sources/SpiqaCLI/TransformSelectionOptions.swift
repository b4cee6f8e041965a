import ArgumentParser
import SpiqaCore
import SpiqaIO
import SpiqaQuant

/// Which layers and heads the attention transform applies to, and head ablation: the same flags in spiqa-eval,
/// spiqa-extract and spiqa-quantize (docs/cli.md). Indices are model indices (`0,3-5`); spiqa-extract's
/// `--layers`/`--heads` choose what is recorded, these choose what is transformed.
public struct TransformSelectionOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("Transform attention only in these model layers (e.g. 0,3-5; default: all).", valueName: "list"))
  public var transformLayers: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Transform attention only in these heads of the selected layers (e.g. 0,3-5; default: all).", valueName: "list"))
  public var transformHeads: String?

  @Option(help: ArgumentHelp("Transform attention only in the heads marked 1 in this .npy [layers, heads] array of 0/1 (not with --transform-layers/--transform-heads).", valueName: "file"))
  public var transformMask: String?

  @Flag(help: "Head ablation: zero the selected heads' attention (transformers' head_mask 0); needs --transform-layers, --transform-heads or --transform-mask, excludes --threshold/--bits.")
  public var ablate = false

  /// The flag of each part of the selection, for errors found once the model or a record is known (`runTool`).
  public static func flag(for part: QuantError.SelectionPart) -> String {
    switch part {
    case .mask: return "--transform-mask"
    case .layers: return "--transform-layers"
    case .heads: return "--transform-heads"
    }
  }

  public init() {}

  /// The index lists; the rest (the mask file, the combinations) is `apply(to:)`, which each tool's
  /// `checkFlags()` calls, so that a mask file that cannot be read keeps its exit code (65, 74).
  public func validate() throws {
    var t = AttentionTransform()
    var lists = self
    lists.transformMask = nil
    lists.ablate = false
    try lists.apply(to: &t)
  }

  /// Largest mask file read (bytes).
  static let maskFileLimit = 1 << 20

  /// The `[layers, heads]` 0/1 array of `path` (any integer, bool or float dtype).
  /// - Throws: `CLIError` naming `--transform-mask` with the kind of what went wrong (74 unreadable, 65 not a
  ///   valid .npy); `ValidationError` (64) for an array that is not a 0/1 matrix.
  public static func readMask(_ path: String) throws -> [[Bool]] {
    let array: NPYArray
    let values: [Float]
    do {
      array = try NPY.decode(try RegularFile.read(path, limit: maskFileLimit), source: path)
      values = try array.floats()
    } catch let e as any SpiqaError {
      throw CLIError(e.kind, "--transform-mask: \(e.description)")
    }
    guard array.shape.count == 2, array.shape[0] > 0, array.shape[1] > 0 else {
      throw ValidationError("--transform-mask: \(path) has shape \(array.shape); expected [layers, heads]")
    }
    guard values.allSatisfy({ $0 == 0 || $0 == 1 }) else {
      throw ValidationError("--transform-mask: \(path) holds values other than 0 and 1")
    }
    let w = array.shape[1]
    return (0..<array.shape[0]).map { l in (0..<w).map { values[l * w + $0] == 1 } }
  }

  /// Sets `t`'s selection and ablation.
  /// - Throws: `ValidationError` (exit 64) naming the flag.
  public func apply(to t: inout AttentionTransform) throws {
    do {
      t.layers = try transformLayers.map { Set(try parseIndexList($0)) }
    } catch let e as ValidationError {
      throw ValidationError("--transform-layers: \(e.message)")
    }
    do {
      t.heads = try transformHeads.map { Set(try parseIndexList($0)) }
    } catch let e as ValidationError {
      throw ValidationError("--transform-heads: \(e.message)")
    }
    if let transformMask {
      guard transformLayers == nil, transformHeads == nil else {
        throw ValidationError("--transform-mask cannot be combined with --transform-layers or --transform-heads")
      }
      let mask = try Self.readMask(transformMask)
      guard mask.contains(where: { $0.contains(true) }) else {
        throw ValidationError("--transform-mask: \(transformMask) selects no head (every value is 0)")
      }
      t.mask = mask
    }
    t.ablate = ablate
    if ablate {
      guard t.hasSelection else {
        throw ValidationError(
          "--ablate needs --transform-layers, --transform-heads or --transform-mask (it would zero every head)")
      }
      guard t.threshold == 0, t.quantizer == nil else {
        throw ValidationError("--ablate cannot be combined with --threshold, --bits or --method")
      }
    }
  }
}
