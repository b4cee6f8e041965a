/// Raw per-row output buffers of one record (see `RowArrays`), written by several workers at disjoint offsets.
struct RowBuffers: @unchecked Sendable {
  var histogram: UnsafeMutableBufferPointer<Int32>
  var sparsity: UnsafeMutableBufferPointer<Double>
  var tokensToMajority: UnsafeMutableBufferPointer<Int32>
  var medianBin: UnsafeMutableBufferPointer<Int32>
  var jensenShannon: UnsafeMutableBufferPointer<Double>

  /// Zeroed buffers for `heads` blocks of `n` rows.
  init(heads: Int, n: Int, bins: Int, compare: Bool) {
    histogram = .allocate(capacity: heads * n * bins)
    histogram.initialize(repeating: 0)
    sparsity = .allocate(capacity: heads * n)
    sparsity.initialize(repeating: 0)
    tokensToMajority = .allocate(capacity: heads * n)
    tokensToMajority.initialize(repeating: 0)
    medianBin = .allocate(capacity: heads * n)
    medianBin.initialize(repeating: 0)
    jensenShannon = .allocate(capacity: compare ? heads * n : 0)
    jensenShannon.initialize(repeating: 0)
  }

  /// Copies into arrays and frees the buffers.
  func finish(compare: Bool) -> RowArrays {
    var r = RowArrays()
    r.histogram = Array(histogram)
    r.sparsity = Array(sparsity)
    r.tokensToMajority = Array(tokensToMajority)
    r.medianBin = Array(medianBin)
    r.jensenShannon = compare ? Array(jensenShannon) : []
    histogram.deallocate()
    sparsity.deallocate()
    tokensToMajority.deallocate()
    medianBin.deallocate()
    jensenShannon.deallocate()
    return r
  }
}
