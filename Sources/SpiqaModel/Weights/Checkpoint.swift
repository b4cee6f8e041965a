import Foundation

/// A Hugging Face checkpoint folder: `config.json` plus `model.safetensors` (memory-mapped) or
/// `pytorch_model.bin` (through `openPyTorchBin(path:)`).
public final class Checkpoint {
  /// The folder it was read from.
  public let directory: String
  public let config: ModelConfig
  /// The named tensors of the weight file.
  public let weights: WeightSource
  /// Path of the weight file actually opened.
  public let weightsPath: String

  /// Reads `directory/config.json` and opens the weight file (safetensors preferred).
  public init(directory: String) throws {
    self.directory = directory
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
      throw SpiqaModelError.io("\(directory): no such model folder; expected a Hugging Face checkpoint directory")
    }
    config = try ModelConfig(contentsOf: directory + "/config.json")
    let safetensors = directory + "/model.safetensors"
    let bin = directory + "/pytorch_model.bin"
    if fm.fileExists(atPath: safetensors) {
      weightsPath = safetensors
      weights = try SafetensorsFile(path: safetensors)
    } else if fm.fileExists(atPath: bin) {
      weightsPath = bin
      weights = try openPyTorchBin(path: bin)
    } else if fm.fileExists(atPath: directory + "/model.safetensors.index.json") {
      throw SpiqaModelError.badData(
        "\(directory): sharded checkpoints (model.safetensors.index.json) are not supported; merge the shards")
    } else {
      throw SpiqaModelError.io("\(directory): neither model.safetensors nor pytorch_model.bin found")
    }
    let family = config.family
    for arch in config.architectures where !family.architecturePrefixes.contains(where: { arch.hasPrefix($0) }) {
      throw SpiqaModelError.badData(
        "\(directory)/config.json: architecture \"\(arch)\" does not belong to model_type \"\(family)\" "
          + "(expected \(family.architecturePrefixes.map { $0 + "*" }.joined(separator: " or ")))")
    }
  }
}
