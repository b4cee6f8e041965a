// The BPE merge loop of GPT-2's encoder.py: repeatedly take the adjacent pair with the lowest
// merge rank and merge ALL its non-overlapping occurrences left to right, until no pair has a rank.
//
// Two implementations with the same result: the direct quadratic loop (short pieces, the common
// case) and a heap over a linked list for long pieces (O(n log n), so a 100 kB "word" cannot stall
// the tokenizer). The heap version processes one rank as a batch, in position order, and only then
// adds the pairs the batch created — new pairs can rank lower than the batch and must wait, as in
// the reference.

struct BPEMerger: Sendable {
  /// (left << 32 | right) → (rank << 32 | merged symbol).
  let merges: FlatMap64
  /// Pieces longer than this many bytes use the heap.
  var heapThreshold = 48

  @inline(__always)
  func pairValue(_ l: Int32, _ r: Int32) -> UInt64? { merges.get(UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))) }

  /// Merges initial symbols (one per byte); returns the final symbols and their byte lengths.
  func merge(_ initial: [Int32]) -> (symbols: [Int32], lengths: [Int32]) {
    initial.count > heapThreshold ? mergeHeap(initial) : mergeQuadratic(initial)
  }

  func mergeQuadratic(_ initial: [Int32]) -> (symbols: [Int32], lengths: [Int32]) {
    var syms = initial
    var lens = [Int32](repeating: 1, count: initial.count)
    var nextSyms: [Int32] = []
    var nextLens: [Int32] = []
    while syms.count > 1 {
      var best = UInt64.max
      var at = -1
      for i in 0..<(syms.count - 1) {
        if let v = pairValue(syms[i], syms[i + 1]), v < best {
          best = v
          at = i
        }
      }
      if at < 0 { break }
      let first = syms[at], second = syms[at + 1]
      let merged = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
      nextSyms.removeAll(keepingCapacity: true)
      nextLens.removeAll(keepingCapacity: true)
      var i = 0
      while i < syms.count {
        if i + 1 < syms.count && syms[i] == first && syms[i + 1] == second {
          nextSyms.append(merged)
          nextLens.append(lens[i] + lens[i + 1])
          i += 2
        } else {
          nextSyms.append(syms[i])
          nextLens.append(lens[i])
          i += 1
        }
      }
      swap(&syms, &nextSyms)
      swap(&lens, &nextLens)
    }
    return (syms, lens)
  }

  func mergeHeap(_ initial: [Int32]) -> (symbols: [Int32], lengths: [Int32]) {
    let n = initial.count
    var sym = initial
    var len = [Int32](repeating: 1, count: n)
    var next = (0..<n).map { Int32($0 + 1) }  // n = none
    var prev = (0..<n).map { Int32($0 - 1) }  // -1 = none
    var alive = [Bool](repeating: true, count: n)
    var heap = MinHeap()
    func push(_ p: Int) {
      let q = Int(next[p])
      guard q < n, let v = pairValue(sym[p], sym[q]) else { return }
      heap.push((v >> 32) << 32 | UInt64(p))
    }
    for p in 0..<(n - 1) { push(p) }
    var batch: [Int] = []
    var merged: [Int] = []
    while let top = heap.pop() {
      let rank = top >> 32
      batch.removeAll(keepingCapacity: true)
      batch.append(Int(top & 0xFFFF_FFFF))
      while let t = heap.peek(), t >> 32 == rank {
        _ = heap.pop()
        batch.append(Int(t & 0xFFFF_FFFF))
      }
      batch.sort()
      merged.removeAll(keepingCapacity: true)
      for p in batch where alive[p] {
        let q = Int(next[p])
        guard q < n, let v = pairValue(sym[p], sym[q]), v >> 32 == rank else { continue }
        sym[p] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
        len[p] += len[q]
        alive[q] = false
        next[p] = next[q]
        if Int(next[q]) < n { prev[Int(next[q])] = Int32(p) }
        merged.append(p)
      }
      for p in merged where alive[p] {
        if prev[p] >= 0 { push(Int(prev[p])) }
        push(p)
      }
    }
    var outSyms: [Int32] = []
    var outLens: [Int32] = []
    var p = 0
    while p < n {
      outSyms.append(sym[p])
      outLens.append(len[p])
      p = Int(next[p])
    }
    return (outSyms, outLens)
  }
}

/// Binary min-heap of UInt64 keys.
struct MinHeap {
  private var a: [UInt64] = []

  func peek() -> UInt64? { a.first }

  mutating func push(_ x: UInt64) {
    a.append(x)
    var i = a.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      if a[parent] <= a[i] { break }
      a.swapAt(parent, i)
      i = parent
    }
  }

  mutating func pop() -> UInt64? {
    guard let top = a.first else { return nil }
    let last = a.removeLast()
    if !a.isEmpty {
      a[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < a.count && a[l] < a[m] { m = l }
        if r < a.count && a[r] < a[m] { m = r }
        if m == i { break }
        a.swapAt(i, m)
        i = m
      }
    }
    return top
  }
}
