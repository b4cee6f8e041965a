/// A fixed-capacity heap buffer of bytes handed between threads (chunks to compress, members to inflate).
///
/// Ownership moves with the object: only one thread touches it at a time (submit → worker → consumer).
final class ByteBlock: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let capacity: Int
  var count = 0
  /// Whether `base` was allocated here (and is freed with the block) or belongs to someone else.
  let isOwned: Bool

  init(capacity: Int) {
    self.capacity = max(capacity, 1)
    base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 64)
    isOwned = true
  }

  /// A block over `capacity` bytes at `base` that someone else owns and keeps alive while the block is used
  /// (a reader's destination, which a worker inflates into directly).
  init(borrowing base: UnsafeMutableRawPointer, capacity: Int) {
    self.base = base
    self.capacity = capacity
    isOwned = false
  }

  deinit { if isOwned { base.deallocate() } }

  var free: Int { capacity - count }
  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
  var freeSpace: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count)
  }

  /// Appends as much of `src` as fits; returns how many bytes were taken.
  func append(_ src: UnsafeRawBufferPointer) -> Int {
    let n = min(src.count, capacity - count)
    if n > 0, let s = src.baseAddress { (base + count).copyMemory(from: s, byteCount: n) }
    count += n
    return n
  }

  func appendLE32(_ v: UInt32) {
    (base + count).storeBytes(of: v.littleEndian, as: UInt32.self)
    count += 4
  }
}

/// Recycled `ByteBlock`s, so steady-state streaming allocates nothing (and per-thread malloc arenas do not
/// grow with blocks allocated on one thread and freed on another). Used from one thread only.
struct BlockCache {
  private var blocks: [ByteBlock] = []
  private let keep: Int

  init(keep: Int) { self.keep = keep }

  /// A block with at least `capacity` bytes, emptied.
  mutating func take(capacity: Int) -> ByteBlock {
    if let i = blocks.lastIndex(where: { $0.capacity >= capacity }) {
      let b = blocks.remove(at: i)
      b.count = 0
      return b
    }
    return ByteBlock(capacity: capacity)
  }

  /// Returns a block for reuse (dropped when enough are kept, or when it is borrowed memory).
  mutating func give(_ block: ByteBlock?) {
    guard let block, block.isOwned, blocks.count < keep else { return }
    blocks.append(block)
  }
}
