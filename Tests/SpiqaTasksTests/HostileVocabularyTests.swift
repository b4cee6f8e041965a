import Foundation
import SpiqaCore
import Testing

@testable import SpiqaTasks

#if canImport(Glibc)
import Glibc
#endif

/// Vocabularies that cannot serve the task templates, and special files where a vocabulary belongs.
@Suite("Hostile vocabularies")
struct HostileVocabularyTests {
  private func folder(vocab: String?) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-vocab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    if let vocab { try vocab.write(to: url.appendingPathComponent("vocab.txt"), atomically: false, encoding: .utf8) }
    return url
  }

  @Test("a vocabulary without [CLS] or [SEP] is an error (65), not silently [UNK]",
        arguments: ["[PAD]\n[UNK]\n[SEP]\nhello\n", "[PAD]\n[UNK]\n[CLS]\nhello\n"])
  func missingSpecials(vocab: String) throws {
    let dir = try folder(vocab: vocab)
    defer { try? FileManager.default.removeItem(at: dir) }
    let e = try #require(throws: TasksError.self) { _ = try loadTaskTokenizer(directory: dir.path) }
    #expect(e.exitCode == 65)
    #expect(e.description.contains(vocab.contains("[CLS]") ? "[SEP]" : "[CLS]"))
  }

  @Test("a complete vocabulary loads")
  func complete() throws {
    let dir = try folder(vocab: "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n")
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try loadTaskTokenizer(directory: dir.path)
    #expect(t.clsId == 2 && t.sepId == 3)
  }

  @Test("a FIFO as vocab.txt is refused at once (65), never read")
  func fifoVocabulary() throws {
    let dir = try folder(vocab: nil)
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(mkfifo(dir.appendingPathComponent("vocab.txt").path, 0o600) == 0)
    let thrown = #expect(throws: (any Error).self) { _ = try loadTaskTokenizer(directory: dir.path) }
    let e = try #require(thrown as? any SpiqaError)
    #expect(e.exitCode == 65)
    #expect(e.description.contains("a FIFO, not a regular file"))
  }
}
