#!/usr/bin/env python3
"""torchvision reference for `mmtrain bench data`: the same pairs read, decoded, augmented,
tokenised and collated the way open_clip does it, so that scripts/bench_data.sh can print a ratio.

A benchmark reference, not part of the product. Needs python3-torch, python3-torchvision and
python3-pil. The pipeline per sample: PIL.Image.open().convert("RGB"), RandomResizedCrop(size,
scale, ratio, bicubic; Pillow resamples with its antialiasing filter), ToTensor, Normalize (CLIP's
mean and std), and the caption tokenised to the context length (BOS, ids, EOS, padding). The
tokenizer is SentencePiece when python3-sentencepiece is installed and --tokenizer names a model;
otherwise a whitespace vocabulary built from the captions (a dict lookup per word: cheaper than
SentencePiece, so the fallback favours this side slightly). The first line printed says which.
Batches come from a DataLoader (shuffle, drop_last, persistent workers; PyTorch sets one compute
thread in each worker); the first --warmup batches are not timed.

Usage: bench_data_torch.py --data TSV --size S [--batch B] [--workers W] [--batches N]
                           [--warmup K] [--context-length L] [--tokenizer SPM_MODEL]
Ends with one line `images/s: X`, as `mmtrain bench data` does.
"""
import argparse, csv, os, sys, time

import torch
import torchvision
from PIL import Image
from torchvision import transforms

from bench_tokenizers import SentencePieceTokenizer, WhitespaceTokenizer  # beside this script

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class PairDataset(torch.utils.data.Dataset):
    """Rows of a TSV with columns filepath and title; paths relative to the TSV's folder."""

    def __init__(self, path, image_key, caption_key, transform, context_length):
        folder = os.path.dirname(os.path.abspath(path))
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        self.paths = [os.path.join(folder, r[image_key]) for r in rows]
        self.captions = [r[caption_key] for r in rows]
        self.transform, self.context_length, self.tokenizer = transform, context_length, None

    def __len__(self):
        return len(self.paths)

    def tokenize(self, text):
        t, n = self.tokenizer, self.context_length
        ids = [t.bos_id] + t.encode(text)[: n - 2] + [t.eos_id]
        return torch.tensor(ids + [t.pad_id] * (n - len(ids)), dtype=torch.long)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            image = self.transform(im.convert("RGB"))
        return image, self.tokenize(self.captions[i])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="TSV with columns filepath and title")
    ap.add_argument("--image-key", default="filepath")
    ap.add_argument("--caption-key", default="title")
    ap.add_argument("--size", type=int, required=True, help="model image size (the crop's output)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batches", type=int, default=50, help="timed batches, after the warm-up ones")
    ap.add_argument("--warmup", type=int, default=2, help="untimed batches first")
    ap.add_argument("--context-length", type=int, default=77)
    ap.add_argument("--scale", type=float, nargs=2, default=(0.9, 1.0))
    ap.add_argument("--ratio", type=float, nargs=2, default=(0.75, 1.3333))
    ap.add_argument("--tokenizer", default="", help="SentencePiece model (needs python3-sentencepiece)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.batches < 1 or args.batch < 1 or args.workers < 0 or args.warmup < 0 or args.context_length < 2:
        sys.exit("error: --batches and --batch must be >= 1, --workers and --warmup >= 0, --context-length >= 2")
    torch.manual_seed(args.seed)

    # open_clip's training transform (image_transform(is_train=True) without extra augmentation).
    transform = transforms.Compose([
        transforms.RandomResizedCrop(args.size, scale=tuple(args.scale), ratio=tuple(args.ratio),
                                     interpolation=transforms.InterpolationMode.BICUBIC, antialias=True),
        transforms.ToTensor(),
        transforms.Normalize(CLIP_MEAN, CLIP_STD),
    ])
    dataset = PairDataset(args.data, args.image_key, args.caption_key, transform, args.context_length)

    tokenizer, note = None, "no SentencePiece model given (--tokenizer)"
    if args.tokenizer:
        try:
            tokenizer, note = SentencePieceTokenizer(args.tokenizer), f"sentencepiece {args.tokenizer}"
        except ImportError:
            note = "python3-sentencepiece is not installed"
    else:
        try:
            import sentencepiece  # noqa: F401  (only to say why it is not used)
        except ImportError:
            note = "python3-sentencepiece is not installed"
    if tokenizer is None:
        tokenizer = WhitespaceTokenizer(dataset.captions)
        note = f"whitespace vocabulary of {tokenizer.vocab_size} ids (fallback: {note})"
    dataset.tokenizer = tokenizer

    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True,
                                         num_workers=args.workers, persistent_workers=args.workers > 0)
    if len(loader) == 0:
        sys.exit(f"error: {len(dataset)} pairs, fewer than one batch of {args.batch}")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {Image.__version__}: "
          f"{len(dataset)} pairs, batch {args.batch}, {args.workers} worker(s), {args.size} px, "
          f"context {args.context_length}; tokenizer: {note}", flush=True)

    def batches():
        while True:
            yield from loader

    it = batches()
    for _ in range(args.warmup):
        next(it)
    images = 0
    start = time.perf_counter()
    for _ in range(args.batches):
        image, tokens = next(it)
        images += image.shape[0]
    seconds = time.perf_counter() - start
    del it, loader  # stops the workers
    print(f"{images} images in {args.batches} batches of {args.batch} after {args.warmup} warm-up batch(es), "
          f"{seconds:.2f} s; last batch {tuple(image.shape)} {image.dtype}, tokens {tuple(tokens.shape)}")
    print(f"images/s: {images / max(seconds, 1e-9):.1f}")


if __name__ == "__main__":
    main()
