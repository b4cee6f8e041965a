import ArgumentParser
import SpiqaHub
import SpiqaIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error that knows the exit code its tool should end with (65 bad data, 74 I/O, ...).
///
/// Other libraries' error types can conform in the executables: `extension ModelError: ToolError {}`.
public protocol ToolError: Error, CustomStringConvertible {
  /// The process exit code.
  var exitCode: Int32 { get }
}

extension SpiqaIOError: ToolError {}
extension HubError: ToolError {}

/// The tool's name for messages: the last path component of `argv[0]`.
public var toolName: String {
  let arg0 = CommandLine.arguments.first ?? "spiqa"
  return arg0.split(separator: "/").last.map(String.init) ?? arg0
}

/// Prints one line to standard error.
public func printError(_ line: String) {
  var s = line
  if !s.hasSuffix("\n") { s += "\n" }
  _ = s.utf8CString.withUnsafeBufferPointer { buf in
    Glibc.write(2, buf.baseAddress, max(0, buf.count - 1))
  }
}

/// Runs a tool's body and maps its errors to a one-line `<tool>: message` on standard error and an exit code.
///
/// `SpiqaIOError` and other `ToolError`s use their own exit code (65 bad data, 74 I/O); a closed output pipe
/// ends the process quietly the way `SIGPIPE` does; `ExitCode`, `CleanExit` and `ValidationError` pass
/// through to argument-parser; anything else prints its description and exits 1.
public func runTool(_ body: () throws -> Void) throws {
  signal(SIGPIPE, SIG_DFL)
  do {
    try body()
  } catch let e as SpiqaIOError where e.kind == .brokenPipe {
    exitQuietlyOnBrokenPipe()
  } catch let e as ToolError {
    printError("\(toolName): \(oneLine(e.description))")
    throw ExitCode(e.exitCode)
  } catch let e as ExitCode {
    throw e
  } catch let e as CleanExit {
    throw e
  } catch let e as ValidationError {
    throw e
  } catch {
    printError("\(toolName): \(oneLine(String(describing: error)))")
    throw ExitCode(1)
  }
}

/// Ends the process as `SIGPIPE` would (status 141 in a shell), printing nothing.
public func exitQuietlyOnBrokenPipe() -> Never {
  signal(SIGPIPE, SIG_DFL)
  raise(SIGPIPE)
  exit(141)
}

private func oneLine(_ s: String) -> String {
  String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
}
