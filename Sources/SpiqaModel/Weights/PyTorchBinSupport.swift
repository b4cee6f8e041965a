/// Opens a PyTorch `pytorch_model.bin` checkpoint as a `WeightSource`.
///
/// Placeholder until the zip + restricted-pickle reader lands (issue 10 replaces this one function).
public func openPyTorchBin(path: String) throws -> WeightSource {
  throw SpiqaModelError.badData(
    "\(path): pytorch_model.bin checkpoints are not supported yet; convert the folder to model.safetensors")
}
