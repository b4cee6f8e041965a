import Foundation
import Testing

@testable import SpiqaModel

/// Inputs the libFuzzer checkpoint harness (Fuzz/CheckpointFuzz.swift, docs/development.md) once crashed on, kept
/// so they stay refused with one line: `Fixtures/fuzz/*.bin`.
@Suite struct FuzzFindingTests {
  static let files: [String] = {
    guard let base = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/fuzz") else { return [] }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
    return names.sorted().map { base.appendingPathComponent($0).path }
  }()

  @Test("the fuzz findings are there") func present() {
    #expect(Self.files.contains { $0.hasSuffix("zip64-directory-overflow.bin") })
    #expect(Self.files.contains { $0.hasSuffix("pickle-self-containing-list.bin") })
  }

  /// zip64-directory-overflow.bin: a ZIP64 end record whose central directory size (8.2e18) plus offset (3.3e18)
  /// overflows Int; the bounds check trapped before it was written overflow-safe.
  /// pickle-self-containing-list.bin: a legacy-format pickle that appends a list to itself, then drops it from the
  /// stack with a failing APPENDS; the cycle leaked (LeakSanitizer) until PickleMachine dismantled every container.
  @Test("each finding is refused as bad data (65), by either reader", arguments: files)
  func refused(path: String) throws {
    let bin = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: path) }
    #expect(bin.exitCode == 65 && !bin.description.contains("\n"), "\(bin)")
    let st = try #require(throws: SpiqaModelError.self) { try SafetensorsFile(path: path) }
    #expect(st.exitCode == 65, "\(st)")
  }
}
