import CCPU

/// A kernel ISA level the CPU reports but `spiqa_kernels_set_isa` refused.
public struct ISALevelRefused: Error, CustomStringConvertible {
  public var level: Int32
  public var description: String { "spiqa_kernels_set_isa(\(level)) failed or did not take effect" }
}

/// Runs `body` once at every kernel ISA level this CPU has (portable, AVX2+FMA, AVX-512F: the portable one at
/// least), on this thread, then restores the best level.
///
/// - Throws: `ISALevelRefused` when a level cannot be selected, or what `body` throws.
public func forEachISA(_ body: (Int32) throws -> Void) throws {
  let best = spiqa_kernels_best_isa()
  defer { _ = spiqa_kernels_set_isa(best) }  // always accepted: the CPU has it
  for isa in Int32(SPIQA_ISA_PORTABLE)...best {
    guard spiqa_kernels_set_isa(isa) == 0, spiqa_kernels_isa() == isa else { throw ISALevelRefused(level: isa) }
    try body(isa)
  }
}
