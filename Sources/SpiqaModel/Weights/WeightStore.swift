/// A read-only f32 matrix or vector the forward pass reads: either a view into a memory-mapped F32
/// checkpoint (zero copy) or memory owned by the `WeightStore` (upcast F16/BF16, fused Q/K/V, random weights).
struct Weight: @unchecked Sendable {
  let pointer: UnsafePointer<Float>
  /// [rows, cols] for matrices (PyTorch `Linear` layout [out, in]), [n] for vectors.
  let shape: [Int]
  var count: Int { shape.reduce(1, *) }
}

/// Owns the memory behind every `Weight` of one encoder (mapped files and allocated blocks) and frees it.
final class WeightStore: @unchecked Sendable {
  private var blocks: [UnsafeMutableBufferPointer<Float>] = []
  private var sources: [AnyObject] = []

  deinit { for b in blocks { b.deallocate() } }

  /// Keeps a weight source (e.g. a mapped file) alive as long as the store.
  func retain(_ source: AnyObject) { sources.append(source) }

  /// A new zero-filled owned block of `count` floats.
  func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
    let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
    b.initialize(repeating: 0)
    blocks.append(b)
    return b
  }

  /// The tensor as f32: a view when it is F32 and 4-byte aligned, else an upcast copy.
  func floats(_ raw: RawTensor) -> Weight {
    if raw.dtype == .float32, let base = raw.data.baseAddress, Int(bitPattern: base) % 4 == 0 {
      return Weight(pointer: base.assumingMemoryBound(to: Float.self), shape: raw.shape)
    }
    let b = allocate(raw.count)
    raw.convert(start: 0, into: b)
    return Weight(pointer: UnsafePointer(b.baseAddress!), shape: raw.shape)
  }

  /// Owned f32 copy of `parts` concatenated along the first dimension (used to fuse Q, K, V).
  func concatenate(_ parts: [RawTensor]) -> Weight {
    let total = parts.reduce(0) { $0 + $1.count }
    let b = allocate(total)
    var offset = 0
    for p in parts {
      p.convert(start: 0, into: UnsafeMutableBufferPointer(rebasing: b[offset..<(offset + p.count)]))
      offset += p.count
    }
    var shape = parts[0].shape
    shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
    return Weight(pointer: UnsafePointer(b.baseAddress!), shape: shape)
  }
}
