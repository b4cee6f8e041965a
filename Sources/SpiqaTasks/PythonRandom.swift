import Foundation

/// CPython's `random.Random`: the MT19937 generator seeded like `random.seed(int)`, with `getrandbits`,
/// `_randbelow` and `random.sample` reproduced bit for bit (CPython 3.8–3.13, `Lib/random.py`, `_randommodule.c`).
///
/// `PythonRandom(seed: 123).sample(populationSize: 10570, count: 100)` gives the paper's 100 SQuAD indices.
public struct PythonRandom: Sendable {
  private var state = [UInt32](repeating: 0, count: 624)
  private var index = 625

  /// `random.seed(seed)` for a Python int: `init_by_array` over the 32-bit words of `abs(seed)`, little-endian.
  public init(seed: Int) {
    var n = seed.magnitude
    var key: [UInt32] = []
    repeat {
      key.append(UInt32(truncatingIfNeeded: n))
      n >>= 32
    } while n != 0
    initByArray(key)
  }

  /// `random.seed` with an explicit key array (the words of a big Python int, least significant first).
  public init(key: [UInt32]) {
    initByArray(key.isEmpty ? [0] : key)
  }

  private mutating func initGenrand(_ s: UInt32) {
    state[0] = s
    for i in 1..<624 {
      state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
    }
    index = 624
  }

  private mutating func initByArray(_ key: [UInt32]) {
    initGenrand(19_650_218)
    var i = 1
    var j = 0
    for _ in 0..<max(624, key.count) {
      state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
      i += 1
      j += 1
      if i >= 624 {
        state[0] = state[623]
        i = 1
      }
      if j >= key.count { j = 0 }
    }
    for _ in 0..<623 {
      state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
      i += 1
      if i >= 624 {
        state[0] = state[623]
        i = 1
      }
    }
    state[0] = 0x8000_0000
    index = 624
  }

  /// `genrand_uint32`: the next tempered 32-bit output.
  public mutating func nextUInt32() -> UInt32 {
    if index >= 624 {
      for k in 0..<624 {
        let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7fff_ffff)
        state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_b0df : 0)
      }
      index = 0
    }
    var y = state[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c_5680
    y ^= (y << 15) & 0xefc6_0000
    y ^= y >> 18
    return y
  }

  /// `random.getrandbits(k)` for 0 ≤ k ≤ 64: 32-bit words least significant first, the last one shifted right.
  public mutating func getrandbits(_ k: Int) -> UInt64 {
    precondition(k >= 0 && k <= 64, "getrandbits supports 0...64 bits")
    if k == 0 { return 0 }
    if k <= 32 { return UInt64(nextUInt32() >> (32 - UInt32(k))) }
    var result: UInt64 = 0
    var remaining = k
    var shift: UInt64 = 0
    while remaining > 0 {
      var r = nextUInt32()
      if remaining < 32 { r >>= UInt32(32 - remaining) }
      result |= UInt64(r) << shift
      shift += 32
      remaining -= 32
    }
    return result
  }

  /// `Random._randbelow_with_getrandbits(n)`: rejection sampling on `n.bit_length()` bits (0 for n == 0).
  public mutating func randbelow(_ n: Int) -> Int {
    if n <= 0 { return 0 }
    let k = Int.bitWidth - n.leadingZeroBitCount
    var r = getrandbits(k)
    while r >= UInt64(n) { r = getrandbits(k) }
    return Int(r)
  }

  /// `random.sample(range(populationSize), count)`, both of CPython's branches: a pool (partial Fisher–Yates with
  /// the last element moved into the vacancy) when the population is smaller than the set it would need, else
  /// rejection with a set of already selected indices.
  /// - Throws: `TasksError.usage` when `count` is negative or larger than the population.
  public mutating func sample(populationSize n: Int, count k: Int) throws -> [Int] {
    guard k >= 0, k <= n else {
      throw TasksError.usage("cannot sample \(k) of \(n) items (Python: Sample larger than population or is negative)")
    }
    var setSize = 21
    if k > 5 {
      setSize += Int(pow(4.0, ceil(log(Double(k * 3)) / log(4.0))))
    }
    var result: [Int] = []
    result.reserveCapacity(k)
    if n <= setSize {
      var pool = Array(0..<n)
      for i in 0..<k {
        let j = randbelow(n - i)
        result.append(pool[j])
        pool[j] = pool[n - i - 1]
      }
    } else {
      var selected = Set<Int>()
      for _ in 0..<k {
        var j = randbelow(n)
        while selected.contains(j) { j = randbelow(n) }
        selected.insert(j)
        result.append(j)
      }
    }
    return result
  }
}
