/// Open-addressing hash map UInt64 → UInt64 for the hot lookups (trie edges, BPE merges):
/// a multiplicative hash and linear probing, several times faster than `Dictionary`'s SipHash.
/// `UInt64.max` is reserved as the empty-slot key.
struct FlatMap64: Sendable {
  private var keys: [UInt64]
  private var values: [UInt64]
  private var shift: UInt64
  private var mask: Int
  private(set) var count = 0

  init(minimumCapacity: Int) {
    var bits = 4
    while (1 << bits) < max(16, minimumCapacity * 2) { bits += 1 }
    keys = [UInt64](repeating: .max, count: 1 << bits)
    values = [UInt64](repeating: 0, count: 1 << bits)
    shift = UInt64(64 - bits)
    mask = (1 << bits) - 1
  }

  @inline(__always)
  private func slot(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift) }

  @inline(__always)
  func get(_ k: UInt64) -> UInt64? {
    var i = slot(k)
    while true {
      let kk = keys[i]
      if kk == k { return values[i] }
      if kk == .max { return nil }
      i = (i + 1) & mask
    }
  }

  mutating func set(_ k: UInt64, _ v: UInt64) {
    precondition(k != .max)
    if (count + 1) * 2 > keys.count { grow() }
    var i = slot(k)
    while keys[i] != .max && keys[i] != k { i = (i + 1) & mask }
    if keys[i] == .max { count += 1 }
    keys[i] = k
    values[i] = v
  }

  private mutating func grow() {
    var bigger = FlatMap64(minimumCapacity: keys.count)
    for i in keys.indices where keys[i] != .max { bigger.set(keys[i], values[i]) }
    self = bigger
  }
}
