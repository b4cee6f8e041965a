import Foundation
import SpiqaCLI
import Testing

@Suite("Default paths")
struct DefaultPathsTests {
  /// The package root, three levels above this file.
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  @Test("the project root is the package around the .build* folder the executable sits in", arguments: [
    ("/w/spiqa/.build/x86_64-unknown-linux-gnu/release/spiqa-extract", "/w/spiqa"),
    ("/w/spiqa/.build/release/spiqa-eval", "/w/spiqa"),
    ("/w/spiqa/.build-test/x86_64-unknown-linux-gnu/release/spiqaPackageTests.xctest", "/w/spiqa"),
    ("/w/spiqa/.build-fuzz/spiqa-fuzz-stream", "/w/spiqa"),
  ])
  func projectRoot(executable: String, root: String) {
    #expect(DefaultPaths.projectRoot(executable: executable) == root)
  }

  @Test("no project root outside a build folder; the test runner's own is this package")
  func projectRootOutside() {
    #expect(DefaultPaths.projectRoot(executable: "/usr/local/bin/spiqa-extract") == nil)
    #expect(DefaultPaths.projectRoot(executable: nil) == nil)
    #expect(DefaultPaths.projectRoot() == Self.packageRoot)
  }

  @Test("shared folder: $SPIQA_SHARED when set and not empty, else ../shared beside the project root")
  func sharedFolder() {
    let exe = "/w/spiqa/.build/release/spiqa-eval"
    #expect(DefaultPaths.sharedFolder(environment: ["SPIQA_SHARED": "/data/s"], executable: exe) == "/data/s")
    #expect(DefaultPaths.sharedFolder(environment: [:], executable: exe) == "/w/shared")
    // Outside a package build folder, the executable's folder stands in for the project root.
    #expect(DefaultPaths.sharedFolder(environment: [:], executable: "/opt/spiqa/bin/spiqa-eval") == "/opt/spiqa/shared")
  }

  @Test("an empty SPIQA_SHARED counts as unset, whatever the current directory")
  func emptySharedVariable() throws {
    let exe = "/w/spiqa/.build-test/release/spiqa-extract"
    #expect(DefaultPaths.sharedFolder(environment: ["SPIQA_SHARED": ""], executable: exe) == "/w/shared")
    #expect(
      DefaultPaths.sharedFolder(environment: ["SPIQA_SHARED": ""])
        == URL(fileURLWithPath: Self.packageRoot).deletingLastPathComponent().appendingPathComponent("shared").path)
    #expect(try DefaultPaths.dataPath(nil, task: "sst2", shared: DefaultPaths.sharedFolder(
      environment: ["SPIQA_SHARED": ""], executable: exe)) == "/w/shared/data/glue/SST-2/dev.tsv")
  }

  @Test("model candidates: the working directory's models/, $SPIQA_MODEL, then the project root's models/")
  func modelCandidates() {
    let got = DefaultPaths.modelCandidates(
      environment: ["SPIQA_MODEL": "/m/minilm"], executable: "/w/spiqa/.build/release/spiqa-extract", cwd: "/here")
    #expect(got == ["/here/models/all-MiniLM-L6-v2", "/m/minilm", "/w/spiqa/models/all-MiniLM-L6-v2"])
    let bare = DefaultPaths.modelCandidates(environment: ["SPIQA_MODEL": ""], executable: "/usr/bin/x", cwd: "/here")
    #expect(bare == ["/here/models/all-MiniLM-L6-v2"])
  }

  @Test("data paths: the named file, else the task's default under the shared folder; text needs --data")
  func dataPaths() throws {
    #expect(try DefaultPaths.dataPath("mine.tsv", task: "text", shared: "/s") == "mine.tsv")
    #expect(try DefaultPaths.dataPath(nil, task: "squad", shared: "/s") == "/s/data/squad/dev-v1.1.json")
    #expect(try DefaultPaths.dataPath(nil, task: "sst2", shared: "/s") == "/s/data/glue/SST-2/dev.tsv")
    let text = try #require(throws: CLIError.self) { try DefaultPaths.dataPath(nil, task: "text", shared: "/s") }
    #expect(text.exitCode == 64 && text.description.contains("--data"))
    #expect(try DefaultPaths.resolveData("-", task: "text") == "-")
    let missing = try #require(throws: CLIError.self) { try DefaultPaths.resolveData("/no/such.tsv", task: "sst2") }
    #expect(missing.exitCode == 74 && missing.description == "/no/such.tsv: no such file")
  }

  @Test("an explicit model folder needs a config.json")
  func explicitModel() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-defaults-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let error = try #require(throws: CLIError.self) { try DefaultPaths.resolveModel(dir.path) }
    #expect(error.exitCode == 74 && error.description.hasSuffix("no config.json; expected a Hugging Face checkpoint folder"))
    try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
    #expect(try DefaultPaths.resolveModel(dir.path) == dir.path)
  }
}
