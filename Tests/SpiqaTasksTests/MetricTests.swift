import Foundation
import Testing

import SpiqaTasks

/// The official SQuAD normalisation, EM and F1 against Python's functions (fixture made by
/// scripts/make_tasks_fixtures.py).
@Suite struct MetricTests {
  struct Pair: Decodable {
    var gold: String
    var prediction: String
    var normalized_gold: String
    var normalized_prediction: String
    var em: Double
    var f1: Double
  }

  @Test func pythonFixture() throws {
    let pairs = try JSONDecoder().decode([Pair].self, from: TestSupport.fixture("squad_metric.json"))
    #expect(pairs.count >= 10)
    for p in pairs {
      #expect(SquadMetric.normalize(p.gold) == p.normalized_gold, "\(p.gold)")
      #expect(SquadMetric.normalize(p.prediction) == p.normalized_prediction, "\(p.prediction)")
      #expect(SquadMetric.exact(gold: p.gold, prediction: p.prediction) == p.em, "\(p.gold) | \(p.prediction)")
      #expect(abs(SquadMetric.f1(gold: p.gold, prediction: p.prediction) - p.f1) < 1e-12, "\(p.gold) | \(p.prediction)")
    }
  }

  @Test func maxOverGolds() {
    let s = SquadMetric.score(prediction: "Denver Broncos", golds: ["Broncos", "the Denver Broncos", "x"])
    #expect(s.em == 1)
    #expect(s.f1 == 1)
    let t = SquadMetric.score(prediction: "Broncos team", golds: ["Denver Broncos"])
    #expect(t.em == 0)
    #expect(abs(t.f1 - 0.5) < 1e-12)
  }
}
