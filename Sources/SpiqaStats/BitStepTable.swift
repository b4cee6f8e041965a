/// A step function over non-negative float32 bit patterns (`+0.0` … `+inf`, i.e. bits `0…0x7F80_0000`),
/// evaluated with one table lookup and one comparison.
///
/// For non-negative floats the ordering of bit patterns equals the ordering of values, so any monotone
/// classification of values (histogram bins, "≤ threshold" classes) is a step function of the bits. The table has
/// one entry per `bits >> 16` bucket (32,641 entries × 8 bytes); an entry holds the value at the bucket start and
/// at most one step inside the bucket. Buckets with more steps fall back to a binary search over the steps.
struct BitStepTable: Sendable {
  /// One bucket: value at the bucket start, the bits where it changes (`UInt32.max`: no change), value after.
  struct Entry: Sendable {
    var split: UInt32
    var base: Int16
    var next: Int16
  }

  static let shift: UInt32 = 16
  static let lastBits: UInt32 = 0x7F80_0000  // +inf
  /// Marks a bucket that needs the slow path.
  static let slowMarker: Int16 = .min

  private(set) var entries: [Entry]
  /// Step positions (ascending, unique) and the value from each position on.
  private let stepBits: [UInt32]
  private let stepValues: [Int16]
  private let initial: Int16

  /// Builds the table from steps `(bits, value)`: from `bits` on the function is `value`; before the first step it
  /// is `initial`. Steps must be sorted by bits; among equal bits the last one wins.
  init(initial: Int16, steps: [(bits: UInt32, value: Int16)]) {
    var bitsList: [UInt32] = []
    var values: [Int16] = []
    var start = initial
    for s in steps {
      if s.bits == 0 {
        start = s.value
        bitsList.removeAll()
        values.removeAll()
        continue
      }
      if let last = bitsList.last, last == s.bits {
        values[values.count - 1] = s.value
      } else {
        bitsList.append(s.bits)
        values.append(s.value)
      }
    }
    // Drop steps that do not change the value.
    var cb: [UInt32] = []
    var cv: [Int16] = []
    var current = start
    for (b, v) in zip(bitsList, values) where v != current {
      cb.append(b)
      cv.append(v)
      current = v
    }
    stepBits = cb
    stepValues = cv
    self.initial = start

    let buckets = Int(Self.lastBits >> Self.shift) + 1
    var table = [Entry](repeating: Entry(split: .max, base: start, next: start), count: buckets)
    var i = 0  // index of the first step with bits > bucket start
    var value = start
    for k in 0..<buckets {
      let lo = UInt32(k) << Self.shift
      let hi = lo &+ (1 << Self.shift)  // exclusive (wraps only past the table, never reached)
      while i < cb.count && cb[i] <= lo {
        value = cv[i]
        i += 1
      }
      var j = i
      while j < cb.count && cb[j] < hi { j += 1 }
      switch j - i {
      case 0: table[k] = Entry(split: .max, base: value, next: value)
      case 1: table[k] = Entry(split: cb[i], base: value, next: cv[i])
      default: table[k] = Entry(split: .max, base: Self.slowMarker, next: 0)
      }
    }
    entries = table
  }

  /// The value for non-negative bits `b ≤ 0x7F80_0000`.
  @inline(__always)
  func callAsFunction(_ b: UInt32) -> Int16 {
    let e = entries.withUnsafeBufferPointer { $0[Int(b >> Self.shift)] }
    if e.base != Self.slowMarker { return b >= e.split ? e.next : e.base }
    return slow(b)
  }

  /// Binary search over the steps.
  func slow(_ b: UInt32) -> Int16 {
    var lo = 0
    var hi = stepBits.count  // first step with bits > b
    while lo < hi {
      let mid = (lo + hi) / 2
      if stepBits[mid] <= b { lo = mid + 1 } else { hi = mid }
    }
    return lo == 0 ? initial : stepValues[lo - 1]
  }
}
