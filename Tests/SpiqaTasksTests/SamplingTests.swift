import Foundation
import Testing

import SpiqaTasks

/// CPython `random.seed(seed); random.sample(range(n), k)` reproduced exactly.
@Suite struct SamplingTests {
  struct Case: Decodable {
    var n: Int
    var k: Int
    var seed: Int
    var indices: [Int]
  }

  /// The 100 indices listed in docs/reference-behaviour.md §3.2 (N = 10,570, seed 123).
  static let paperIndices = [
    857, 4385, 1428, 6672, 4367, 1764, 625, 6211, 8785, 9213, 5442, 5583, 850, 2615, 2212, 5524, 9190, 5468, 4016,
    2683, 27, 7147, 1435, 9791, 6186, 1144, 108, 5168, 7345, 1671, 719, 1519, 2329, 2068, 347, 4780, 7055, 9394,
    7813, 4347, 7688, 602, 4998, 5627, 8547, 7912, 3389, 9976, 10465, 8635, 9253, 5165, 205, 6524, 8400, 7116, 8823,
    10458, 9773, 7964, 8529, 6873, 6136, 8356, 521, 2973, 1353, 7977, 4290, 2787, 5487, 5520, 9080, 6409, 1200, 7483,
    6351, 9390, 5506, 267, 3097, 9604, 1444, 10294, 5955, 210, 5765, 3754, 6647, 8716, 8208, 978, 10466, 4713, 8106,
    10321, 3823, 8915, 7926, 2909,
  ]

  @Test func paperHundred() throws {
    let selection = try Selection(samples: 100, limit: nil, offset: nil)
    #expect(try selection.indices(count: 10570) == Self.paperIndices)
  }

  @Test func pythonFixture() throws {
    let cases = try JSONDecoder().decode([Case].self, from: TestSupport.fixture("python_sample.json"))
    #expect(cases.count >= 20)
    for c in cases {
      var rng = PythonRandom(seed: c.seed)
      let got = try rng.sample(populationSize: c.n, count: c.k)
      #expect(got == c.indices, "n=\(c.n) k=\(c.k) seed=\(c.seed)")
    }
  }

  /// First outputs of `random.seed(123); [random.getrandbits(32) for _ in range(3)]`.
  @Test func firstWords() {
    var rng = PythonRandom(seed: 123)
    #expect([rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32)] == [224_899_942, 1_149_664_691, 374_463_918])
  }

  @Test func sampleTooLarge() {
    var rng = PythonRandom(seed: 1)
    #expect(throws: TasksError.self) { try rng.sample(populationSize: 3, count: 4) }
  }

  @Test func slices() throws {
    #expect(try Selection(samples: nil, limit: 3, offset: 5).indices(count: 7) == [5, 6])
    #expect(try Selection(samples: -1, limit: nil, offset: nil).indices(count: 3) == [0, 1, 2])
    #expect(try Selection(samples: nil, limit: nil, offset: 9).indices(count: 3) == [])
    #expect(try Selection(samples: nil, limit: 0, offset: nil).indices(count: 3) == [])
    #expect(throws: TasksError.self) { try Selection(samples: 5, limit: 3, offset: nil) }
    #expect(throws: TasksError.self) { try Selection(samples: nil, limit: -2, offset: nil) }
  }
}
