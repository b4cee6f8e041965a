import CCPU
import CModelKernels

/// One (item, head) block's P·V, handed to `ForwardHooks.attentionProduct`: P `[n, n]` (row stride `seqLen`, the
/// real block of the `[T, T]` probabilities), V `[n, headSize]` (row stride `valuesStride`), out `[n, headSize]`
/// (row stride `outStride`).
public struct BlockProduct {
  public var layer: Int
  public var item: Int
  public var head: Int
  /// `[T, T]`, rows and columns from `n` on are padding (0).
  public var probs: UnsafeMutablePointer<Float>
  public var n: Int
  public var seqLen: Int
  public var values: UnsafePointer<Float>
  public var valuesStride: Int
  public var headSize: Int
  public var out: UnsafeMutablePointer<Float>
  public var outStride: Int

  public init(
    layer: Int, item: Int, head: Int, probs: UnsafeMutablePointer<Float>, n: Int, seqLen: Int,
    values: UnsafePointer<Float>, valuesStride: Int, headSize: Int, out: UnsafeMutablePointer<Float>, outStride: Int
  ) {
    self.layer = layer
    self.item = item
    self.head = head
    self.probs = probs
    self.n = n
    self.seqLen = seqLen
    self.values = values
    self.valuesStride = valuesStride
    self.headSize = headSize
    self.out = out
    self.outStride = outStride
  }

  /// Whether `rowGroups` beats sgemm on pruned and quantized attention on this CPU: with AVX2 or AVX-512 it does on
  /// real attention; its portable loop does not (docs/runtime.md, "P·V by row groups").
  public static var rowGroupsPayOff: Bool { spiqa_kernels_best_isa() >= Int32(SPIQA_ISA_AVX2) }

  /// `out = P·V` with sgemm: what the forward pass does without an `attentionProduct` hook.
  public func dense() {
    BLAS.gemmNN(m: n, n: headSize, k: n, a: probs, lda: seqLen, b: values, ldb: valuesStride, c: out, ldc: outStride)
  }

  /// `out = P·V` over P's nonzero entries only, with entries below `pruneBelow` taken as 0 (pruning fused in; P is
  /// not written). Returns the entries used: the block's nonzeros after pruning.
  @discardableResult
  public func sparse(pruneBelow: Float = 0) -> Int {
    spiqa_pv_sparse(probs, n, seqLen, pruneBelow, values, valuesStride, headSize, out, outStride)
  }

  /// `out = P·V` with sgemm's products, less the columns that are zero in every row of a group of 4 rows, for a
  /// block pruned or quantized in place; entries below a positive `pruneBelow` are first set to 0 in P (pruning
  /// fused in). Returns the block's nonzeros (after pruning) and the (group, column) pairs multiplied, or nil when
  /// out of memory (nothing written: use `dense`).
  public func rowGroups(pruneBelow: Float = 0) -> (nonzero: Int, columns: Int)? {
    var columns = 0
    let nonzero = spiqa_pv_groups(
      probs, n, seqLen, pruneBelow, values, valuesStride, headSize, out, outStride, &columns)
    return nonzero < 0 ? nil : (nonzero, columns)
  }

  /// `out = P·V` with P quantized on the fly to `codes` (pruning below `pruneBits` fused in; P is not written): each
  /// surviving entry's code value times its V row, zeros skipped. Returns the nonzero codes, or nil when an entry
  /// lies outside [0, 1] (out is then partly written; quantize P in place and use `dense`).
  public func codes(_ codes: ProductCodes, pruneBits: UInt32 = 0) -> Int? {
    run(spiqa_pv_codes, codes, pruneBits)
  }

  /// `codes` computed by level sums: per row the V rows of each code are summed, then multiplied by the code's
  /// value. Slower than `codes` on CPUs (docs/runtime.md, "P·V from the codes"); kept for the benchmark.
  public func levelSums(_ codes: ProductCodes, pruneBits: UInt32 = 0) -> Int? {
    run(spiqa_pv_levels, codes, pruneBits)
  }

  private typealias CodeKernel = (
    UnsafePointer<Float>?, Int, Int, UInt32, UnsafePointer<UInt32>?, UnsafePointer<Float>?, Int32, Float,
    UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?, Int
  ) -> Int

  private func run(_ kernel: CodeKernel, _ codes: ProductCodes, _ pruneBits: UInt32) -> Int? {
    let k = codes.starts.withUnsafeBufferPointer { s in
      codes.values.withUnsafeBufferPointer { v in
        kernel(probs, n, seqLen, pruneBits, s.baseAddress, v.baseAddress, Int32(s.count), codes.atOne, values,
               valuesStride, headSize, out, outStride)
      }
    }
    return k < 0 ? nil : k
  }
}

/// A quantizer on [0, 1] as codes for `BlockProduct.codes`: an input whose float32 bit pattern lies in
/// `[starts[j], starts[j+1])` has code `j` and stands for `values[j]`; code 0 is the zero level; the input 1.0
/// stands for `atOne`.
public struct ProductCodes: Sendable, Equatable {
  public let starts: [UInt32]
  public let values: [Float]
  public let atOne: Float

  /// Nil unless `starts` begins at 0 and ascends, there are 1…64 codes, `values[0]` is 0 and no other value is.
  public init?(starts: [UInt32], values: [Float], atOne: Float) {
    guard !starts.isEmpty, starts.count == values.count, starts.count <= Int(SPIQA_PV_LEVELS_MAX), starts[0] == 0,
      values[0] == 0, !values.dropFirst().contains(0), zip(starts, starts.dropFirst()).allSatisfy({ $0 < $1 })
    else { return nil }
    self.starts = starts
    self.values = values
    self.atOne = atOne
  }
}
