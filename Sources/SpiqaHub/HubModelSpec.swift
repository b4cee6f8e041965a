/// A Hub model argument: `org/name`, `name`, optionally `@revision` (branch, tag or commit).
struct HubModelSpec: Equatable {
  let repo: String
  let revision: String

  /// Parses `spec`, or returns nil when it is not a valid repo id (then it can only be a missing folder).
  init?(_ spec: String) {
    var repo = Substring(spec)
    var revision = "main"
    if let at = spec.lastIndex(of: "@") {
      repo = spec[..<at]
      revision = String(spec[spec.index(after: at)...])
      guard !revision.isEmpty, !revision.hasPrefix("/"), !revision.hasSuffix("/"),
        !revision.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
        revision.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\\" })
      else { return nil }
    }
    let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), parts.allSatisfy(Self.validPart) else { return nil }
    self.repo = String(repo)
    self.revision = revision
  }

  /// huggingface_hub's rule: letters, digits, `-_.`, not starting/ending with `-`/`.`, no `--` or `..`, ≤ 96.
  private static func validPart(_ s: Substring) -> Bool {
    guard !s.isEmpty, s.count <= 96, let first = s.first, let last = s.last else { return false }
    guard !"-.".contains(first), !"-.".contains(last), !s.contains("--"), !s.contains("..") else { return false }
    return s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-_.".contains($0) }
  }
}
