import Foundation
import SpiqaCore

/// Picks the tokenizer of a Hugging Face model folder by the files present: `tokenizer.json` first (the tokenizers
/// format, `TokenizerJSON`), else `vocab.json` + `merges.txt` → byte-level BPE (RoBERTa/GPT-2), else `vocab.txt` →
/// WordPiece (BERT). A folder with only a SentencePiece model (`spiece.model`, `sentencepiece.bpe.model`) is refused:
/// its `tokenizer.json` is what is read for Unigram tokenizers (ALBERT, XLM-RoBERTa).
public enum AutoTokenizer {
  public static func load(directory: String) throws -> any Tokenizer {
    let fm = FileManager.default
    let dir = directory as NSString
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
      throw TokenizerError(.io, "\(directory): no such directory")
    }
    if fm.fileExists(atPath: dir.appendingPathComponent("tokenizer.json")) {
      return try TokenizerJSON.load(
        path: dir.appendingPathComponent("tokenizer.json"), config: try VocabFiles.loadConfig(directory: directory))
    }
    // SentencePiece protobufs are not read: the converted tokenizer.json carries the same model and normalizer.
    for spm in ["spiece.model", "sentencepiece.bpe.model", "tokenizer.model"]
    where fm.fileExists(atPath: dir.appendingPathComponent(spm)) {
      throw TokenizerError(
        .badData,
        "\(directory): \(spm) (SentencePiece) is not read; provide the model's tokenizer.json (the Hub ships one, or "
          + "save it with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir))")
    }
    if fm.fileExists(atPath: dir.appendingPathComponent("vocab.json"))
      && fm.fileExists(atPath: dir.appendingPathComponent("merges.txt"))
    {
      return try ByteLevelBPETokenizer.load(directory: directory)
    }
    if fm.fileExists(atPath: dir.appendingPathComponent("vocab.txt")) {
      return try WordPieceTokenizer.load(directory: directory)
    }
    throw TokenizerError(
      .badData, "\(directory): no tokenizer files; expected tokenizer.json, vocab.txt (WordPiece) or vocab.json + merges.txt (BPE)")
  }
}
