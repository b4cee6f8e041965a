import ArgumentParser
import SpiqaTasks

/// `--attention-product`: how spiqa-eval and spiqa-extract multiply pruned or quantized attention by V
/// (`AttentionProductKernel`; docs/runtime.md, "P·V by row groups"). The same kernel on both sides keeps a stream
/// recorded while quantizing equal, replayed, to quantizing on the fly.
public struct AttentionProductOption: ParsableArguments {
  @Option(
    name: .customLong("attention-product"),
    help: ArgumentHelp(
      "How P·V runs under pruning or a quantizer: groups (quantize in place, then skip the columns a group of 4 rows leaves at 0), sparse (spiqa-eval: skip zeros, quantize on the fly; spiqa-extract records with dense then), dense (sgemm, as the reference) or auto (groups with AVX2 or AVX-512, where it measured fastest; dense otherwise); the same results up to float rounding.",
      valueName: "kernel"),
    completion: .list(AttentionProductKernel.allCases.map(\.rawValue)))
  public var name = AttentionProductKernel.auto.rawValue

  public init() {}

  public func validate() throws { _ = try kernel() }

  /// The kernel named.
  /// - Throws: `ValidationError` for an unknown name.
  public func kernel() throws -> AttentionProductKernel {
    guard let k = AttentionProductKernel(rawValue: name) else {
      let names = AttentionProductKernel.allCases.map(\.rawValue).joined(separator: ", ")
      throw ValidationError("--attention-product: unknown kernel '\(name)'; expected one of \(names)")
    }
    return k
  }
}
