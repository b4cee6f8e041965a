import Foundation
import Testing

import SpiqaCore
import SpiqaIO
import SpiqaTestSupport

/// Streams written here, read by real numpy: `np.load` in a loop (plain file, `gzip.open`), and the
/// pipe recipe of docs/stream-format.md.
@Suite("numpy reads our streams", .enabled(if: TestPython.hasNumpy, "python3 with numpy not found (CI installs it)"))
struct PythonInteropTests {
  static let script = """
    import gzip, json, sys
    import numpy as np

    def records_np_load(f):
        while True:
            try:
                yield np.load(f)
            except EOFError:
                return

    def records_pipe(f):
        from numpy.lib import format as npf
        while f.peek(1):  # sys.stdin.buffer is a BufferedReader
            major, minor = npf.read_magic(f)
            read_header = npf.read_array_header_1_0 if major == 1 else npf.read_array_header_2_0
            shape, fortran, dt = read_header(f)  # numpy's own checked header parser
            n = int(np.prod(shape)) if shape else 1
            yield np.frombuffer(f.read(n * dt.itemsize), dt).reshape(shape, order="F" if fortran else "C")

    def summary(arrays):
        out = []
        for a in arrays:
            if a.dtype == np.uint8 and a.ndim == 1:
                out.append(json.loads(a.tobytes()))
            else:
                out.append({"dtype": a.dtype.str, "shape": list(a.shape), "sum": float(a.astype(np.float64).sum())})
        return out

    path, mode = sys.argv[1], sys.argv[2]
    if mode == "plain":
        f = open(path, "rb")
    elif mode == "gzip":
        f = gzip.open(path)
    else:
        f = gzip.open(sys.stdin.buffer) if mode == "pipe-gzip" else sys.stdin.buffer
    reader = records_pipe if mode == "pipe" else records_np_load
    print(json.dumps(summary(reader(f))))
    """

  @Test("np.load loop, gzip.open and a plain pipe read every record", arguments: ["plain", "gzip", "pipe", "pipe-gzip"])
  func numpyReads(mode: String) throws {
    let python = try #require(TestPython.executable)
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let compressed = mode.hasSuffix("gzip")
    let records = [attention(0, n: 5), attention(1, n: 240), (["kind": "codes"], NPYArray(uint8: [1, 2, 3], shape: [1, 3]))]
    let bytes = try writeStream(compressed ? .fast : .none, header: ["producer": "swift", "tokens": ["é", "x"]], records)
    let path = dir.appendingPathComponent("s").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let scriptPath = dir.appendingPathComponent("read.py").path
    try Self.script.write(toFile: scriptPath, atomically: false, encoding: .utf8)
    let r = try runProcess(python, [scriptPath, path, mode], stdin: mode.hasPrefix("pipe") ? Data(bytes) : nil)
    #expect(r.status == 0, "\(r.stderr)")
    let list = try #require(try JSONValue(parsing: Array(r.stdout)).arrayValue)
    #expect(list.count == 1 + 2 * records.count)
    #expect(list.first?.objectValue?["tokens"]?.stringArray == ["é", "x"])
    for (i, (_, a)) in records.enumerated() {
      let t = list[2 + 2 * i].objectValue
      #expect(t?["shape"]?.intArray == a.shape)
      let sum = try a.floats().reduce(0.0) { $0 + Double($1) }
      #expect(abs((t?["sum"]?.doubleValue ?? -1) - sum) < 1e-3)
    }
  }
}
