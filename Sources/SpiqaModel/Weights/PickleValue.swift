/// A value built by the restricted unpickler (`PickleMachine`): plain Python data plus the few torch objects a
/// state dict holds. Lists and dicts are reference types because pickle's memo shares and mutates them; tuples
/// too, so that `dismantle` can take any nesting apart without recursion.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer wider than 64 bits (LONG1/LONG4), little-endian two's complement bytes.
  case bigInt([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple(PickleTuple)
  case list(PickleList)
  case dict(PickleDict)
  /// A global from the allow-list, e.g. `torch._utils._rebuild_tensor_v2` (never resolved to real code).
  case global(String)
  /// A storage named by a persistent id.
  case storage(PickleStorageRef)
  /// A tensor view of a storage.
  case tensor(PickleTensor)

  /// Short description for error messages.
  var kind: String {
    switch self {
    case .none: "None"
    case .bool: "bool"
    case .int, .bigInt: "int"
    case .float: "float"
    case .string: "str"
    case .bytes: "bytes"
    case .tuple: "tuple"
    case .list: "list"
    case .dict: "dict"
    case .global(let name): name
    case .storage: "storage"
    case .tensor: "tensor"
    }
  }
}

extension PickleValue {
  /// Takes containers apart with an explicit work list, so that releasing them never recurses (deeply nested
  /// values would otherwise overflow the stack in deinit) and reference cycles through lists/dicts are broken.
  static func dismantle(_ roots: [PickleValue]) {
    var work = roots
    while let value = work.popLast() {
      switch value {
      case .tuple(let tuple):
        work.append(contentsOf: tuple.items)
        tuple.items = []
      case .list(let list):
        work.append(contentsOf: list.items)
        list.items = []
      case .dict(let dict):
        for entry in dict.entries {
          work.append(entry.key)
          work.append(entry.value)
        }
        dict.entries = []
      default:
        break
      }
    }
  }
}

/// A Python tuple (immutable for the unpickler; mutable only so `dismantle` can empty it).
final class PickleTuple {
  var items: [PickleValue]
  init(_ items: [PickleValue]) { self.items = items }
}

/// A mutable Python list.
final class PickleList {
  var items: [PickleValue] = []
}

/// A mutable Python dict (insertion-ordered, like `dict` and `OrderedDict`).
final class PickleDict {
  var entries: [(key: PickleValue, value: PickleValue)] = []

  /// The value for a string key (last write wins, as in Python).
  func value(forKey key: String) -> PickleValue? {
    for entry in entries.reversed() {
      if case .string(let k) = entry.key, k == key { return entry.value }
    }
    return nil
  }
}

/// A storage from a persistent id: `('storage', torch.<T>Storage, key, location, numel[, view_metadata])`.
struct PickleStorageRef {
  /// Storage type name without the module, e.g. `FloatStorage`.
  let typeName: String
  /// Storage key: the zip member `data/<key>`, or the legacy format's storage id.
  let key: String
  /// Number of elements in the storage.
  let count: Int
}

/// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`, in elements.
struct PickleTensor {
  let storage: PickleStorageRef
  let offset: Int
  let shape: [Int]
  let strides: [Int]
}
