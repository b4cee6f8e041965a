import ArgumentParser
import CCPU
import SpiqaCore
import SpiqaIO
import SpiqaQuant

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// Every library error is a `SpiqaError`: it ends the tool with its kind's exit code (64 usage, 65 bad data,
/// 74 I/O), except a closed output pipe (`.brokenPipe`), which ends the process quietly the way `SIGPIPE` does.
/// `ExitCode`, `CleanExit` and `ValidationError` pass through to argument-parser; anything else prints its
/// description and exits 1.
public func runTool(_ body: () throws -> Void) throws {
  reserveStandardDescriptors()
  SignalCleanup.install()
  do {
    try checkISACap()
    try checkArgumentsAreUTF8()
    try body()
  } catch let e as QuantError where e.selection != nil {
    // A layer/head selection the model or record lacks: the library says which part, the command line its flag.
    printError("\(toolName): \(TransformSelectionOptions.flag(for: e.selection!)): \(oneLine(e.description))")
    throw ExitCode(e.exitCode)
  } catch let e as any SpiqaError {
    if e.kind == .brokenPipe { exitQuietlyOnBrokenPipe() }
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
    throw ExitCode(SpiqaErrorKind.other.exitCode)
  }
}

/// Puts `/dev/null` on a closed standard input, output or error, opened the wrong way round (input write-only,
/// outputs read-only) so that using it fails with EBADF as before. Otherwise the first file the tool opens would
/// take the closed descriptor's number: `spiqa-eval --per-example f >&-` wrote its result line into `f`, and
/// `spiqa-quantize -o f <&-` read its own empty temporary file as the input stream.
func reserveStandardDescriptors() {
  for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
    let opened = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
    if opened >= 0 && opened != fd {
      dup2(opened, fd)
      close(opened)
    }
  }
}

/// Refuses an argument that is not UTF-8 (64). Swift decodes such bytes to U+FFFD, so a file name in Latin-1 was
/// not found as an input and, as an output, silently written under another name.
private func checkArgumentsAreUTF8() throws {
  for i in 1..<Int(CommandLine.argc) {
    guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
    throw CLIError.usage(
      "argument \(i) (\(oneLine(String(cString: raw)))) is not valid UTF-8; the tools take UTF-8 paths and values")
  }
}

/// `SPIQA_MAX_ISA`, when set, must name a level (docs/runtime.md, "Instruction sets"): a typo would otherwise run
/// the best kernels silently.
private func checkISACap() throws {
  guard spiqa_kernels_isa_cap() == -2 else { return }
  let value = getenv("SPIQA_MAX_ISA").map { String(cString: $0) } ?? ""
  throw CLIError.usage("SPIQA_MAX_ISA: '\(value)' is not avx512, avx2 or portable")
}

/// Ends the process as `SIGPIPE` would (status 141 in a shell), printing nothing.
public func exitQuietlyOnBrokenPipe() -> Never {
  TempFiles.removeAll()
  signal(SIGPIPE, SIG_DFL)
  raise(SIGPIPE)
  exit(141)
}

/// Most characters of an error message `oneLine` keeps.
let maxMessageScalars = 4000

/// `s` on one line, safe for a terminal, at most `maxMessageScalars` characters: line breaks become spaces, other
/// control characters (an escape sequence or a NUL from crafted input; C1 controls too) `\x1B`-style escapes, and
/// U+2028/U+2029 `\u2028`.
func oneLine(_ s: String) -> String {
  var out = ""
  var shown = 0
  for scalar in s.unicodeScalars {
    shown += 1
    if shown > maxMessageScalars {  // a crafted 5 MB example_id is not a 5 MB error line
      out += "…"
      break
    }
    switch scalar.value {
    case 0x0A, 0x0D: out += " "
    case 0x09: out.unicodeScalars.append(scalar)
    case 0x00..<0x20, 0x7F...0x9F:
      out += (scalar.value < 16 ? "\\x0" : "\\x") + String(scalar.value, radix: 16, uppercase: true)
    case 0x2028, 0x2029:  // line and paragraph separators: line ends to Python's str.splitlines
      out += "\\u" + String(scalar.value, radix: 16, uppercase: true)
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out
}
