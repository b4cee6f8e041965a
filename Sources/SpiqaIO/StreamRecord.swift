import SpiqaCore

/// One logical item of a record stream.
public enum StreamRecord: Sendable, Equatable {
  /// A stream header: `{"spiqa":1,"kind":"stream",...}`; no tensor follows.
  case header(JSONObject)
  /// A metadata record (`kind` other than `"stream"`) and the tensor record that follows it.
  case tensor(meta: JSONObject, array: NPYArray)
}

/// The `spiqa` format version written into every header and metadata record.
public let spiqaStreamVersion = 1

extension JSONValue {
  /// The record as an NPY array: 1-D `|u1` holding compact sorted UTF-8 JSON.
  var metaArray: NPYArray { NPYArray(json: self) }
}

extension NPYArray {
  /// A metadata record: 1-D `|u1` holding `json` as compact UTF-8 JSON with sorted keys.
  public init(json: JSONValue) {
    let b = json.jsonBytes
    self.init(dtype: .uint8, shape: [b.count], bytes: b)
  }
}
