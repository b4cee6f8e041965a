import ArgumentParser
import SpiqaCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The entry point of spiqa-extract, spiqa-quantize, spiqa-hist and spiqa-eval: argument-parser parses,
/// `checkFlags()` and `run()` run, and every failure is one line on standard error, `<tool>: message`
/// (docs/robustness.md) — argument-parser's own (an unknown flag, a missing value) too, instead of its message with
/// usage lines. Exit codes: argument-parser's for what it finds (64), the error's kind for the rest (`runTool`);
/// `--help` and `--version` print as usual.
public protocol SpiqaTool: ParsableCommand {
  /// The checks of the flags that span option groups, before any input is read: a `ValidationError` names the
  /// flag (64); a library error (a mask file that is not a valid .npy) keeps its kind. Not argument-parser's
  /// `validate()`, which would turn every error but a `ValidationError` into exit 1.
  mutating func checkFlags() throws
}

extension SpiqaTool {
  public static func main() {
    do {
      var command = try parseAsRoot()
      guard var tool = command as? Self else { return try command.run() }  // not reached: no subcommands
      try runTool { try tool.checkFlags() }
      command = tool
      try command.run()
    } catch {
      // runTool printed its line already (an empty message); help and --version are not failures.
      let code = exitCode(for: error), text = message(for: error)
      if code == .success || text.isEmpty { exit(withError: error) }
      printError("\(toolName): \(oneLine(text))")
      Glibc.exit(code.rawValue)
    }
  }
}

/// The flag names on a command line (`--flag` or `-f`, without an `=value`), up to a `--`; negative numbers are
/// values, not flags. For a mode that ignores most flags (spiqa-eval --merge) to refuse them: argument-parser cannot
/// tell a default from a value given.
public func flagsGiven(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> [String] {
  var flags: [String] = []
  for a in arguments {
    if a == "--" { break }
    guard a.hasPrefix("-"), a != "-", Double(a) == nil else { continue }
    flags.append(String(a.prefix { $0 != "=" }))
  }
  return flags
}
