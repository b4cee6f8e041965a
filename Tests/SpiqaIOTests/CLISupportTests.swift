import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaIO
import Testing

@Suite("SpiqaCLI helpers")
struct CLISupportTests {
  @Test("index lists", arguments: [
    ("0,3-5", [0, 3, 4, 5]), ("7", [7]), ("5-5", [5]), ("3,1,2,1", [1, 2, 3]), (" 0 , 2-3", [0, 2, 3]),
  ])
  func indexLists(text: String, expected: [Int]) throws {
    #expect(try parseIndexList(text) == expected)
  }

  @Test("bad index lists", arguments: ["", "1,", "a", "-1", "3-1", "1-2-3", "0-99999999999", "1.5"])
  func badIndexLists(text: String) {
    #expect(throws: ValidationError.self) { try parseIndexList(text) }
  }

  @Test("index limit")
  func limit() {
    #expect(throws: ValidationError.self) { try parseIndexList("0-6", limit: 6) }
    #expect((try? parseIndexList("0-5", limit: 6))?.count == 6)
  }

  @Test("output options")
  func outputOptions() throws {
    let d = try OutputOptions.parse([])
    #expect(d.output == nil && d.streamCompression == .fast)
    let o = try OutputOptions.parse(["-o", "x.npy.gz", "--compression", "6:rle"])
    #expect(o.output == "x.npy.gz" && o.streamCompression == StreamCompression(level: 6, strategy: .rle))
    #expect(try OutputOptions.parse(["--no-gzip"]).streamCompression == .none)
    #expect(throws: (any Error).self) { try OutputOptions.parse(["--compression", "11"]) }
  }

  @Test("runTool maps errors to exit codes")
  func exitCodes() {
    func code(_ error: any Error) -> Int32? {
      do {
        try runTool { throw error }
        return nil
      } catch let e as ExitCode {
        return e.rawValue
      } catch {
        return -1
      }
    }
    #expect(code(SpiqaIOError(.badData, source: "s", what: "bad")) == 65)
    #expect(code(SpiqaIOError(.io, source: "s", what: "io")) == 74)
    struct Usage: SpiqaError {
      var kind: SpiqaErrorKind { .usage }
      var description: String { "usage" }
    }
    #expect(code(Usage()) == 64)
    #expect(code(JSONSyntaxError(offset: 0, what: "x")) == 65)
    #expect(code(CocoaError(.fileReadUnknown)) == 1)
    #expect(code(ExitCode(3)) == 3)
    #expect(code(ValidationError("usage")) == -1)  // passed through for argument-parser (exit 64)
    #expect((try? runTool {}) != nil)
  }

  @Test("an unwritable output fails before any work")
  func earlyFailure() throws {
    let o = try OutputOptions.parse(["--output", "/nonexistent-dir/out.npy"])
    let e = #expect(throws: SpiqaIOError.self) { try o.makeWriter() }
    #expect(e?.exitCode == 74)
  }
}
