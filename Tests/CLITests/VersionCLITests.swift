import Foundation
import SpiqaTestSupport
import Testing

/// `--version` on every tool: one line, `<tool> <release> (commit <git describe or unknown>)`, the same commit for
/// all four (they are built together), exit 0 and nothing on standard error.
@Suite(.enabled(if: TestPaths.tool("spiqa-hist") != nil, "needs the built tools"))
struct VersionCLITests {
  @Test func everyToolPrintsItsVersionAndCommit() throws {
    var commits = Set<String>()
    for tool in ["spiqa-extract", "spiqa-quantize", "spiqa-hist", "spiqa-eval"] {
      let path = try #require(TestPaths.tool(tool))
      let r = try runProcess(path, ["--version"])
      #expect(r.status == 0 && !r.signaled, "\(tool): \(r.stderr)")
      #expect(r.stderr.isEmpty, "\(tool): \(r.stderr)")
      let line = r.text.trimmingCharacters(in: .newlines)
      let prefix = "\(tool) 0.1.0 (commit ", suffix = ")"
      #expect(line.hasPrefix(prefix) && line.hasSuffix(suffix) && !line.contains("\n"), "\(tool): \(line)")
      if line.hasPrefix(prefix) && line.hasSuffix(suffix) {
        let commit = String(line.dropFirst(prefix.count).dropLast(suffix.count))
        #expect(!commit.isEmpty && !commit.contains(" "), "\(tool): \(line)")
        commits.insert(commit)
      }
    }
    #expect(commits.count == 1, "\(commits)")
  }
}
