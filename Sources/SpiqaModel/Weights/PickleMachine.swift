/// A restricted pickle virtual machine for PyTorch state dicts.
///
/// Runs the opcodes of pickle protocols 2–5 that `torch.save` emits for a dict of tensors — containers, scalars,
/// strings, memo, persistent ids — and resolves globals only from a fixed allow-list. Nothing is ever imported or
/// called: allowed globals are names, and `REDUCE` on them builds a `PickleValue` (an OrderedDict, a tensor view).
/// Any other global or opcode is refused with a message naming it ("refusing to unpickle arbitrary code").
struct PickleMachine {
  /// Globals that may appear; the first group may be called with REDUCE.
  static let callableGlobals: Set<String> = [
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
  ]
  /// Most values the stack, the memo and the made containers hold at once.
  static let maxValues = 1 << 20

  /// Storage classes (`torch.FloatStorage`, …), element size in bytes by class name.
  static let storageTypes: [String: Int] = [
    "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
  ]
  /// Tensor classes accepted as the `new_type` of `_rebuild_from_type_v2`.
  static let tensorTypes: Set<String> = ["torch.Tensor", "torch.nn.parameter.Parameter"]

  let bytes: UnsafeRawBufferPointer
  let source: String
  /// Maps a persistent id (the tuple after BINPERSID) to a value.
  let persistentLoad: (PickleValue) throws -> PickleValue

  /// Runs one pickle starting at `start`; returns what `extract` makes of the unpickled value, and the offset
  /// just past STOP.
  ///
  /// The values themselves never leave: afterwards every container is taken apart iteratively
  /// (`PickleValue.dismantle`), so a hostile pickle nesting a million tuples or lists (or a list containing
  /// itself) cannot overflow the stack in recursive deinitialisers, nor leak.
  func run<T>(from start: Int, extract: (PickleValue) throws -> T) throws -> (value: T, end: Int) {
    var pos = start
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    // Every list and dict made, also those a failed or POP opcode dropped from the stack: a list that contains
    // itself and is no longer on the stack or in the memo would otherwise leak (found by Fuzz/CheckpointFuzz).
    var containers: [PickleValue] = []
    defer { PickleValue.dismantle(stack + Array(memo.values) + containers) }

    func fail(_ what: String) -> SpiqaModelError { PyTorchBinError.badData(source, "pickle byte \(pos): \(what)") }
    func need(_ n: Int) throws {
      guard n >= 0, pos <= bytes.count - n else { throw fail("unexpected end of data (truncated pickle)") }
    }
    func readUInt(_ n: Int) throws -> UInt64 {
      try need(n)
      var v: UInt64 = 0
      for k in 0..<n { v |= UInt64(bytes[pos + k]) << (8 * k) }
      pos += n
      return v
    }
    func readBytes(_ n: UInt64) throws -> UnsafeRawBufferPointer {
      guard n <= UInt64(Int.max) else { throw fail("length \(n) out of range") }
      try need(Int(n))
      defer { pos += Int(n) }
      return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + Int(n))])
    }
    func readLine() throws -> String {
      var end = pos
      while end < bytes.count, bytes[end] != 0x0A { end += 1 }
      guard end < bytes.count else { throw fail("unterminated GLOBAL name") }
      defer { pos = end + 1 }
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pos..<end]), as: UTF8.self)
    }
    func pop() throws -> PickleValue {
      guard let v = stack.popLast() else { throw fail("stack underflow (corrupt pickle)") }
      return v
    }
    func popMark() throws -> [PickleValue] {
      guard let m = marks.popLast(), m <= stack.count else { throw fail("MARK missing (corrupt pickle)") }
      defer { stack.removeSubrange(m...) }
      return Array(stack[m...])
    }
    func top() throws -> PickleValue {
      guard let v = stack.last else { throw fail("stack underflow (corrupt pickle)") }
      return v
    }
    func global(_ module: String, _ name: String) throws -> PickleValue {
      let full = "\(module).\(name)"
      if Self.callableGlobals.contains(full) || Self.tensorTypes.contains(full) { return .global(full) }
      if module == "torch", Self.storageTypes[name] != nil { return .global(full) }
      throw fail(
        "refusing to unpickle arbitrary code: global '\(full)' is not in the allow-list of PyTorch state-dict "
          + "objects (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.<Type>Storage, ...)")
    }

    while true {
      // A state dict of a large model holds some 10^4 values; 16 Mi empty lists in a 16 MB pickle took 1.8 GB.
      guard stack.count + memo.count + containers.count + marks.count <= Self.maxValues else {
        throw fail("more than \(Self.maxValues) values on the stack and in the memo; not a state dict")
      }
      try need(1)
      let op = bytes[pos]
      let opPos = pos
      pos += 1
      switch op {
      case 0x80: _ = try readUInt(1)  // PROTO
      case 0x95: _ = try readUInt(8)  // FRAME
      case 0x2E:  // STOP
        guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
        return (try extract(stack[0]), pos)
      case 0x28: marks.append(stack.count)  // MARK
      case 0x29: stack.append(.tuple(PickleTuple([])))  // EMPTY_TUPLE
      case 0x5D, 0x7D:  // EMPTY_LIST, EMPTY_DICT
        let container: PickleValue = op == 0x5D ? .list(PickleList()) : .dict(PickleDict())
        containers.append(container)
        stack.append(container)
      case 0x4E: stack.append(.none)  // NONE
      case 0x88: stack.append(.bool(true))  // NEWTRUE
      case 0x89: stack.append(.bool(false))  // NEWFALSE
      case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try readUInt(4)))))  // BININT
      case 0x4B: stack.append(.int(Int(try readUInt(1))))  // BININT1
      case 0x4D: stack.append(.int(Int(try readUInt(2))))  // BININT2
      case 0x8A, 0x8B:  // LONG1, LONG4
        let n = try readUInt(op == 0x8A ? 1 : 4)
        let raw = Array(try readBytes(n))
        if raw.isEmpty {
          stack.append(.int(0))
        } else if raw.count <= 8 {
          var v: UInt64 = 0
          for (k, b) in raw.enumerated() { v |= UInt64(b) << (8 * k) }
          if raw.count < 8, raw[raw.count - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(raw.count)) }  // sign-extend
          stack.append(.int(Int(Int64(bitPattern: v))))
        } else {
          stack.append(.bigInt(raw))
        }
      case 0x47:  // BINFLOAT (big-endian)
        let raw = try readBytes(8)
        var bits: UInt64 = 0
        for b in raw { bits = bits << 8 | UInt64(b) }
        stack.append(.float(Double(bitPattern: bits)))
      case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
        let n = try readUInt(op == 0x58 ? 4 : op == 0x8C ? 1 : 8)
        stack.append(.string(String(decoding: try readBytes(n), as: UTF8.self)))
      case 0x42, 0x43, 0x8E:  // BINBYTES, SHORT_BINBYTES, BINBYTES8
        let n = try readUInt(op == 0x42 ? 4 : op == 0x43 ? 1 : 8)
        stack.append(.bytes(Array(try readBytes(n))))
      case 0x74: stack.append(.tuple(PickleTuple(try popMark())))  // TUPLE
      case 0x85: stack.append(.tuple(PickleTuple([try pop()])))  // TUPLE1
      case 0x86:  // TUPLE2
        let b = try pop(), a = try pop()
        stack.append(.tuple(PickleTuple([a, b])))
      case 0x87:  // TUPLE3
        let c = try pop(), b = try pop(), a = try pop()
        stack.append(.tuple(PickleTuple([a, b, c])))
      case 0x73:  // SETITEM
        let v = try pop(), k = try pop()
        guard case .dict(let d) = try top() else { throw fail("SETITEM on a \(try top().kind)") }
        d.entries.append((k, v))
      case 0x75:  // SETITEMS
        let items = try popMark()
        guard case .dict(let d) = try top() else { throw fail("SETITEMS on a \(try top().kind)") }
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        for i in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[i], items[i + 1])) }
      case 0x61:  // APPEND
        let v = try pop()
        guard case .list(let l) = try top() else { throw fail("APPEND on a \(try top().kind)") }
        l.items.append(v)
      case 0x65:  // APPENDS
        let items = try popMark()
        guard case .list(let l) = try top() else { throw fail("APPENDS on a \(try top().kind)") }
        l.items.append(contentsOf: items)
      case 0x71: memo[Int(try readUInt(1))] = try top()  // BINPUT
      case 0x72: memo[Int(try readUInt(4))] = try top()  // LONG_BINPUT
      case 0x94: memo[memo.count] = try top()  // MEMOIZE
      case 0x68, 0x6A:  // BINGET, LONG_BINGET
        let k = Int(try readUInt(op == 0x68 ? 1 : 4))
        guard let v = memo[k] else { throw fail("memo key \(k) was never stored") }
        stack.append(v)
      case 0x30: _ = try pop()  // POP
      case 0x31: _ = try popMark()  // POP_MARK
      case 0x32: stack.append(try top())  // DUP
      case 0x63:  // GLOBAL "module\nname\n"
        let module = try readLine()
        let name = try readLine()
        stack.append(try global(module, name))
      case 0x93:  // STACK_GLOBAL
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
          throw fail("STACK_GLOBAL without module and name strings")
        }
        stack.append(try global(module, name))
      case 0x51:  // BINPERSID
        stack.append(try persistentLoad(try pop()))
      case 0x52:  // REDUCE
        let args = try pop()
        let callable = try pop()
        let value = try reduce(callable, args, fail: fail)
        if case .dict = value { containers.append(value) }  // OrderedDict()
        stack.append(value)
      case 0x62:  // BUILD: only the attribute dict of a state dict (`_metadata`), which is not needed.
        _ = try pop()
        guard case .dict = try top() else { throw fail("BUILD on a \(try top().kind) is not supported") }
      default:
        pos = opPos
        let name = Self.opcodeNames[op].map { " (\($0))" } ?? ""
        throw fail(
          "refusing to unpickle: opcode 0x\(op < 16 ? "0" : "")\(String(op, radix: 16, uppercase: true))\(name)"
            + " is outside the subset PyTorch state dicts use")
      }
    }
  }

  /// REDUCE for the allow-listed callables; builds values, never runs code.
  private func reduce(
    _ callable: PickleValue, _ args: PickleValue, fail: (String) -> SpiqaModelError
  ) throws -> PickleValue {
    guard case .global(let name) = callable, Self.callableGlobals.contains(name) else {
      throw fail("refusing to unpickle arbitrary code: cannot call a \(callable.kind)")
    }
    guard case .tuple(let tuple) = args else { throw fail("\(name) called with \(args.kind) arguments") }
    let a = tuple.items
    switch name {
    case "collections.OrderedDict":
      guard a.isEmpty else { throw fail("collections.OrderedDict called with arguments") }
      return .dict(PickleDict())
    case "torch._utils._rebuild_tensor_v2":
      guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
        let shape = intTuple(a[2]), let strides = intTuple(a[3]), shape.count == strides.count
      else { throw fail("unexpected arguments to torch._utils._rebuild_tensor_v2") }
      return .tensor(PickleTensor(storage: storage, offset: offset, shape: shape, strides: strides))
    case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
      guard let first = a.first, case .tensor = first else { throw fail("\(name) without a tensor") }
      return first
    default:  // torch._tensor._rebuild_from_type_v2(func, new_type, args, state); func is a plain rebuild function
      guard a.count >= 3, case .global(let type) = a[1], Self.tensorTypes.contains(type),
        case .global(let inner) = a[0], inner != name
      else {
        throw fail("unexpected arguments to \(name)")
      }
      return try reduce(a[0], a[2], fail: fail)
    }
  }

  private func intTuple(_ v: PickleValue) -> [Int]? {
    guard case .tuple(let tuple) = v else { return nil }
    var out: [Int] = []
    for item in tuple.items {
      guard case .int(let i) = item else { return nil }
      out.append(i)
    }
    return out
  }

  /// Names of opcodes that are refused, for error messages.
  static let opcodeNames: [UInt8: String] = [
    0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x69: "INST", 0x6F: "OBJ", 0x50: "PERSID", 0x49: "INT", 0x4C: "LONG",
    0x46: "FLOAT", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x56: "UNICODE",
    0x67: "GET", 0x70: "PUT", 0x64: "DICT", 0x6C: "LIST", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
    0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER",
    0x98: "READONLY_BUFFER",
  ]
}
