import SpiqaCore
import Testing

@testable import SpiqaCLI

/// The progress line of docs/cli.md ("Progress"): percentage and ETA when the fraction done is known.
@Suite("Progress line")
struct ProgressTests {
  @Test func knownTotalGivesPercentAndETA() {
    var p = Progress(label: "spiqa-eval", total: 100, unit: "questions", enabled: false)
    p.advance(by: 40)
    #expect(p.line(p.start + 10) == "spiqa-eval: 40/100 questions (40%), 10 s, 4 questions/s, ETA 15 s")
    // The summary line has no ETA; a run under a second has no ETA yet.
    p.advance(by: 60)
    #expect(p.line(p.start + 25, finished: true) == "spiqa-eval: 100/100 questions, 25 s, 4 questions/s")
    var early = Progress(label: "spiqa-eval", total: 10, unit: "questions", enabled: false)
    early.advance(by: 1)
    #expect(early.line(early.start + 0.5) == "spiqa-eval: 1/10 questions (10%), 0.5 s, 2 questions/s")
  }

  @Test func fractionOfTheInputWhenNoTotal() {
    var p = Progress(label: "spiqa-quantize", unit: "records", enabled: false)
    p.advance(by: 30, fraction: 0.25)
    #expect(p.line(p.start + 90) == "spiqa-quantize: 30 records (25%), 1 min 30 s, 0.3 records/s, ETA 4 min 30 s")
    // A pipe: no fraction, no percentage.
    var piped = Progress(label: "spiqa-hist", unit: "records", enabled: false)
    piped.advance(by: 7)
    #expect(piped.line(piped.start + 2) == "spiqa-hist: 7 records, 2 s, 3.5 records/s")
  }

  @Test(arguments: [(4.24, "4.2 s"), (42.4, "42 s"), (185, "3 min 05 s"), (7620, "2 h 07 min")])
  func durations(_ seconds: Double, _ text: String) {
    #expect(Progress.duration(seconds) == text)
  }
}

@Suite("One-line messages")
struct OneLineTests {
  /// Crafted input (an example id with an escape sequence, a NUL in a dtype) must not reach a terminal raw.
  @Test func controlCharactersAreEscaped() {
    #expect(oneLine("a\nb\r\nc") == "a b  c")
    #expect(oneLine("id \u{1B}[31mred\u{0}\u{7F}") == "id \\x1B[31mred\\x00\\x7F")
    #expect(oneLine("tab\tand é ✓") == "tab\tand é ✓")
    #expect(oneLine("c1 \u{85}\u{9B}31m ls \u{2028}ps\u{2029}") == "c1 \\x85\\x9B31m ls \\u2028ps\\u2029")
  }
}
