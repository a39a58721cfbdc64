"""Caption tokenizers shared by the PyTorch reference scripts (bench_train_torch.py,
bench_data_torch.py): SentencePiece when Python has it, else a whitespace fallback with mmtrain's
special ids (pad 0, unk 1, bos 2, eos 3)."""


class WhitespaceTokenizer:
    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, captions):
        words = sorted({w for c in captions for w in c.lower().split()})
        self.ids = {w: i + 4 for i, w in enumerate(words)}
        self.vocab_size = len(words) + 4

    def encode(self, text):
        return [self.ids.get(w, self.unk_id) for w in text.lower().split()]


class SentencePieceTokenizer:
    def __init__(self, path):
        import sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor(model_file=path)
        self.pad_id, self.bos_id, self.eos_id = self.sp.pad_id(), self.sp.bos_id(), self.sp.eos_id()
        self.vocab_size = self.sp.get_piece_size()

    def encode(self, text):
        return self.sp.encode(text)
