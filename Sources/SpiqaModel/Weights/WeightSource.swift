/// Element type of a stored weight tensor, spelled as safetensors spells it.
public enum WeightDType: String, Sendable {
  case float32 = "F32"
  case float16 = "F16"
  case bfloat16 = "BF16"

  /// Bytes per element.
  public var byteSize: Int { self == .float32 ? 4 : 2 }
}

/// A view of one stored tensor: little-endian, C order, no strides.
///
/// `data` stays valid as long as the `WeightSource` that produced it is alive.
public struct RawTensor: @unchecked Sendable {
  public let dtype: WeightDType
  public let shape: [Int]
  public let data: UnsafeRawBufferPointer

  public init(dtype: WeightDType, shape: [Int], data: UnsafeRawBufferPointer) {
    self.dtype = dtype
    self.shape = shape
    self.data = data
  }

  /// Number of elements (product of `shape`).
  public var count: Int { shape.reduce(1, *) }
}

/// Named tensors of a checkpoint file (safetensors, PyTorch `.bin`), whatever the container format.
public protocol WeightSource: AnyObject {
  /// Every tensor name in the file, sorted.
  var tensorNames: [String] { get }
  /// The tensor called `name`, or nil when the file has none.
  func rawTensor(_ name: String) -> RawTensor?
  /// The element type of a tensor called `name` that the file holds but the encoder cannot use (e.g. I64), for
  /// messages; nil when there is none.
  func unusableDType(_ name: String) -> String?
}
