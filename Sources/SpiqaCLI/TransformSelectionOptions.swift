import ArgumentParser
import SpiqaQuant

/// Which layers and heads the attention transform applies to, and head ablation: the same flags in spiqa-eval,
/// spiqa-extract and spiqa-quantize (docs/cli.md). Indices are model indices (`0,3-5`); spiqa-extract's
/// `--layers`/`--heads` choose what is recorded, these choose what is transformed.
public struct TransformSelectionOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Transform attention only in these model layers (e.g. 0,3-5; default: all).", valueName: "list"))
  public var transformLayers: String?

  @Option(help: ArgumentHelp("Transform attention only in these heads of the selected layers (e.g. 0,3-5; default: all).", valueName: "list"))
  public var transformHeads: String?

  @Flag(help: "Head ablation: zero the selected heads' attention (transformers' head_mask 0); needs --transform-layers or --transform-heads, excludes --threshold/--bits.")
  public var ablate = false

  public init() {}

  public func validate() throws {
    var t = AttentionTransform()
    try apply(to: &t)
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
    t.ablate = ablate
    if ablate {
      guard t.hasSelection else {
        throw ValidationError("--ablate needs --transform-layers or --transform-heads (it would zero every head)")
      }
      guard t.threshold == 0, t.quantizer == nil else {
        throw ValidationError("--ablate cannot be combined with --threshold, --bits or --method")
      }
    }
  }
}
