/// The parsed structure of a `torch.save` file: named tensor views and a way to find their storage bytes.
///
/// Two containers: the zip format (`<name>/data.pkl` + `<name>/data/<key>` members) and the legacy format
/// (magic-number pickle, protocol-version pickle, system-info pickle, the state-dict pickle, a pickle listing the
/// storage keys, then each storage as an int64 element count followed by its raw little-endian bytes).
struct PyTorchBinContents {
  /// Tensors of the state dict by name (non-tensor entries are ignored).
  let tensors: [String: PickleTensor]
  private let storages: [String: UnsafeRawBufferPointer]
  private let source: String

  /// The bytes of a storage referenced by a tensor.
  func storage(_ ref: PickleStorageRef) throws -> UnsafeRawBufferPointer {
    guard let s = storages[ref.key] else {
      throw PyTorchBinError.badData(source, "storage '\(ref.key)' referenced by the pickle is missing from the file")
    }
    return s
  }

  /// Parses the zip format.
  init(zip bytes: UnsafeRawBufferPointer, source: String) throws {
    self.source = source
    let archive = try ZipArchive(bytes: bytes, source: source)
    let pickles = archive.entries.filter { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 }
    guard let pkl = pickles.first else {
      let torchScript = archive.entries.contains { $0.name.contains("/code/") || $0.name.hasSuffix("/constants.pkl") }
      let hint = torchScript ? " (this looks like a TorchScript archive; save the state dict instead)" : ""
      throw PyTorchBinError.badData(
        source, "zip archive has no <name>/data.pkl, so it is not a torch.save checkpoint\(hint)")
    }
    let prefix = String(pkl.name.dropLast("data.pkl".count))
    if let order = archive.entry(named: prefix + "byteorder") {
      let text = String(decoding: try archive.data(of: order), as: UTF8.self)
      guard text.hasPrefix("little") else {
        throw PyTorchBinError.badData(source, "byte order '\(text)' is not supported (only little-endian checkpoints)")
      }
    }
    let pickle = try archive.data(of: pkl)
    guard zipCRC32(pickle) == pkl.crc32 else {
      throw PyTorchBinError.badData(source, "\(pkl.name) fails its CRC-32 check; the file is corrupt")
    }
    var refs: [String: PickleStorageRef] = [:]
    let machine = PickleMachine(bytes: pickle, source: "\(source) (\(pkl.name))") { pid in
      let ref = try Self.storageRef(pid, source: source, legacy: false)
      refs[ref.key] = ref
      return .storage(ref)
    }
    (tensors, _) = try machine.run(from: 0) { try Self.stateDict($0, source: source) }
    var storages: [String: UnsafeRawBufferPointer] = [:]
    for key in refs.keys {
      guard let entry = archive.entry(named: prefix + "data/" + key) else {
        throw PyTorchBinError.badData(source, "zip member \(prefix)data/\(key) (a tensor storage) is missing")
      }
      storages[key] = try archive.data(of: entry)
    }
    self.storages = storages
  }

  /// Parses the legacy (torch < 1.6) format.
  init(legacy bytes: UnsafeRawBufferPointer, source: String) throws {
    self.source = source
    let noPersistentIds: (PickleValue) throws -> PickleValue = { _ in
      throw PyTorchBinError.badData(source, "unexpected persistent id in a legacy header pickle")
    }
    func header<T>(_ at: Int, _ extract: (PickleValue) throws -> T) throws -> (T, Int) {
      try PickleMachine(bytes: bytes, source: source, persistentLoad: noPersistentIds).run(from: at, extract: extract)
    }
    let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c
    let (isMagic, afterMagic) = try header(0) { v -> Bool in
      if case .bigInt(let b) = v { return b == magic }
      return false
    }
    guard isMagic else {
      throw PyTorchBinError.badData(
        source, "a pickle file, but not a legacy torch.save checkpoint (wrong magic number)")
    }
    let (version, afterVersion) = try header(afterMagic) { v -> Int? in
      if case .int(let i) = v { return i }
      return nil
    }
    guard version == 1001 else {
      throw PyTorchBinError.badData(
        source,
        "legacy checkpoint protocol version \(version.map(String.init) ?? "?") is not supported (expected 1001)")
    }
    let (bigEndian, afterInfo) = try header(afterVersion) { v -> Bool in
      if case .dict(let d) = v, case .bool(false)? = d.value(forKey: "little_endian") { return true }
      return false
    }
    if bigEndian {
      throw PyTorchBinError.badData(source, "big-endian legacy checkpoint is not supported")
    }
    var refs: [String: PickleStorageRef] = [:]
    let main = PickleMachine(bytes: bytes, source: source) { pid in
      let ref = try Self.storageRef(pid, source: source, legacy: true)
      refs[ref.key] = ref
      return .storage(ref)
    }
    let afterMain: Int
    (tensors, afterMain) = try main.run(from: afterInfo) { try Self.stateDict($0, source: source) }
    let (keyList, afterKeys) = try header(afterMain) { v -> [String]? in
      guard case .list(let l) = v else { return nil }
      var keys: [String] = []
      for item in l.items {
        guard case .string(let key) = item else { return nil }
        keys.append(key)
      }
      return keys
    }
    guard let keys = keyList else {
      throw PyTorchBinError.badData(source, "legacy checkpoint: the storage key list after the state dict is missing")
    }
    var storages: [String: UnsafeRawBufferPointer] = [:]
    var pos = afterKeys
    let reader = ZipByteReader(bytes: bytes, source: source)
    for key in keys {
      guard let ref = refs[key], let es = PickleMachine.storageTypes[ref.typeName] else {
        throw PyTorchBinError.badData(source, "legacy checkpoint: storage '\(key)' does not match the state dict")
      }
      let n = try reader.int64AsInt(at: pos, what: "storage size")
      let (byteCount, overflow) = n.multipliedReportingOverflow(by: es)
      guard !overflow, byteCount <= bytes.count - pos - 8 else {
        throw PyTorchBinError.badData(
          source, "legacy storage '\(key)' of \(n) elements runs past the end of the file (truncated)")
      }
      storages[key] = UnsafeRawBufferPointer(rebasing: bytes[(pos + 8)..<(pos + 8 + byteCount)])
      pos += 8 + byteCount
    }
    self.storages = storages
  }

  /// Decodes `('storage', torch.<T>Storage, key, location, numel[, view_metadata])`.
  private static func storageRef(_ pid: PickleValue, source: String, legacy: Bool) throws -> PickleStorageRef {
    guard case .tuple(let tuple) = pid, case let t = tuple.items, t.count >= 5, case .string("storage") = t[0],
      case .global(let type) = t[1], type.hasPrefix("torch."), case .string(let key) = t[2],
      case .int(let count) = t[4], count >= 0
    else {
      throw PyTorchBinError.badData(source, "unsupported persistent id \(pid.kind) (expected a torch storage)")
    }
    if t.count > 5 {  // the legacy format's view_metadata: only None (a whole storage) is supported
      guard legacy, case .none = t[5] else {
        throw PyTorchBinError.badData(source, "storage views of the legacy format (view_metadata) are not supported")
      }
    }
    return PickleStorageRef(typeName: String(type.dropFirst("torch.".count)), key: key, count: count)
  }

  /// The name → tensor entries of the top-level dict (or of its `state_dict` entry).
  private static func stateDict(_ value: PickleValue, source: String) throws -> [String: PickleTensor] {
    guard case .dict(var dict) = value else {
      throw PyTorchBinError.badData(source, "the checkpoint holds a \(value.kind), not a state dict")
    }
    if case .dict(let inner)? = dict.value(forKey: "state_dict") { dict = inner }
    var out: [String: PickleTensor] = [:]
    for (k, v) in dict.entries {
      if case .string(let name) = k, case .tensor(let t) = v { out[name] = t }
    }
    guard !out.isEmpty else { throw PyTorchBinError.badData(source, "the checkpoint's dict holds no tensors") }
    return out
  }
}
