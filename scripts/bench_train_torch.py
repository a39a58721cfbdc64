#!/usr/bin/env python3
"""Plain-PyTorch reference for `mmtrain bench train`: the same CLIP model, data, loss, optimizer
and loop, written the way open_clip does it, so that scripts/bench_train.sh can print a ratio.

A benchmark reference, not part of the product. Needs python3-torch, python3-yaml, python3-pil;
uses python3-sentencepiece when installed and given a model (--tokenizer or tokenizer.path), else
a whitespace vocabulary built from the captions (the text tower's cost is the same: every caption
is padded to the context length either way).

Usage: bench_train_torch.py --config CONFIG [--steps N] [--threads T] [--workers W]
"""
import argparse, csv, math, os, random, resource, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from PIL import Image

from bench_tokenizers import SentencePieceTokenizer, WhitespaceTokenizer  # beside this script

DEFAULTS = {  # docs/reference.md's defaults, for the keys used here
    "run": {"seed": 0},
    "data": {"train": {"path": "", "image_key": "filepath", "caption_key": "title", "separator": "\t"},
             "workers": 2, "augment": {"crop_scale": [0.9, 1.0], "crop_ratio": [0.75, 1.3333], "flip": False},
             "mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]},
    "tokenizer": {"type": "sentencepiece", "path": "", "vocab_size": 0},
    "model": {"embed_dim": 512,
              "vision": {"image_size": 224, "patch_size": 16, "width": 768, "layers": 12, "heads": 12, "mlp_ratio": 4.0},
              "text": {"context_length": 77, "width": 512, "layers": 12, "heads": 8, "mlp_ratio": 4.0}},
    "optim": {"lr": 5.0e-4, "weight_decay": 0.2, "betas": [0.9, 0.98], "eps": 1.0e-6, "warmup_steps": 100, "schedule": "cosine"},
    "train": {"batch_size": 256, "steps": 0, "precision": "fp32"},
}


def merged(defaults, given):
    out = dict(defaults)
    for key, value in (given or {}).items():
        out[key] = merged(defaults[key], value) if isinstance(defaults.get(key), dict) and isinstance(value, dict) else value
    return out


# ---- model: CLIP layout, the same math as src/models/*.cpp and src/ops/*.cpp ----
class LayerNorm(nn.LayerNorm):  # in fp32 under bf16 autocast, as ours (1.13's layer_norm wants its weights' dtype)
    def forward(self, x):
        return super().forward(x.float())


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.randn(3 * width, width) * width ** -0.5)
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask=None):
        b, t, d = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = (qkv[0] * (d // self.heads) ** -0.5) @ qkv[1].transpose(-2, -1)  # [B,H,T,T]
        if mask is not None:
            scores = scores + mask
        return self.out_proj((scores.softmax(-1) @ qkv[2]).transpose(1, 2).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.c_fc, self.c_proj = nn.Linear(width, hidden), nn.Linear(hidden, width)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):  # pre-LN residual block
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.ln_1, self.attn = LayerNorm(width), Attention(width, heads)
        self.ln_2, self.mlp = LayerNorm(width), Mlp(width, round(width * mlp_ratio))

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.resblocks = nn.ModuleList(Block(c["width"], c["heads"], c["mlp_ratio"]) for _ in range(c["layers"]))

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class Vit(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, grid = c["width"], c["image_size"] // c["patch_size"]
        self.conv1 = nn.Conv2d(3, w, c["patch_size"], stride=c["patch_size"], bias=False)
        self.class_embedding = nn.Parameter(w ** -0.5 * torch.randn(w))
        self.positional_embedding = nn.Parameter(w ** -0.5 * torch.randn(grid * grid + 1, w))
        self.ln_pre, self.transformer, self.ln_post = LayerNorm(w), Transformer(c), LayerNorm(w)

    def forward(self, images):
        x = self.conv1(images).flatten(2).transpose(1, 2)  # [B,N,D]
        x = torch.cat([self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1), x], 1) + self.positional_embedding.to(x.dtype)
        return self.ln_post(self.transformer(self.ln_pre(x)))[:, 0]  # pooled class token


class TextTransformer(nn.Module):
    def __init__(self, c, vocab_size, eos_id):
        super().__init__()
        self.eos_id = eos_id
        self.token_embedding = nn.Embedding(vocab_size, c["width"])
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(c["context_length"], c["width"]))
        self.transformer, self.ln_final = Transformer(c), LayerNorm(c["width"])
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.positional_embedding[:length]
        causal = torch.full((length, length), float("-inf")).triu(1)
        x = self.ln_final(self.transformer(x, causal))
        eot = tokens.eq(self.eos_id).int().argmax(1)  # pooled at the end-of-text token
        return x[torch.arange(tokens.shape[0]), eot]


class LateFusion(nn.Module):
    def __init__(self, image_width, text_width, embed_dim):
        super().__init__()
        self.image_projection = nn.Parameter(image_width ** -0.5 * torch.randn(image_width, embed_dim))
        self.text_projection = nn.Parameter(text_width ** -0.5 * torch.randn(text_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))


class Clip(nn.Module):
    def __init__(self, m, vocab_size, eos_id):
        super().__init__()
        self.vision, self.text = Vit(m["vision"]), TextTransformer(m["text"], vocab_size, eos_id)
        self.fusion = LateFusion(m["vision"]["width"], m["text"]["width"], m["embed_dim"])

    def forward(self, images, tokens):
        img, txt = self.vision(images), self.text(tokens)
        with torch.autocast("cpu", enabled=False):  # projections and logits in fp32, as ours under bf16
            img = F.normalize(img.float() @ self.fusion.image_projection, dim=-1)
            txt = F.normalize(txt.float() @ self.fusion.text_projection, dim=-1)
            logits = self.fusion.logit_scale.exp() * img @ txt.t()  # [B,B]
            labels = torch.arange(logits.shape[0])
            return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))  # symmetric InfoNCE


# ---- data: TSV pairs, RandomResizedCrop (bicubic) + ToTensor + Normalize, tokenised captions ----
class PairDataset(torch.utils.data.Dataset):
    def __init__(self, cfg, tokenizer):
        d = cfg["data"]
        folder = os.path.dirname(d["train"]["path"])
        with open(d["train"]["path"], newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter=d["train"]["separator"], quoting=csv.QUOTE_NONE))
        self.paths = [os.path.join(folder, r[d["train"]["image_key"]]) for r in rows]
        keys = d["train"]["caption_key"].split(",")
        self.captions = [[r[k] for k in keys] for r in rows]
        self.tokenizer, self.size = tokenizer, cfg["model"]["vision"]["image_size"]
        self.context = cfg["model"]["text"]["context_length"]
        self.scale, self.ratio, self.flip = d["augment"]["crop_scale"], d["augment"]["crop_ratio"], d["augment"]["flip"]
        self.mean, self.std = torch.tensor(d["mean"]).view(3, 1, 1), torch.tensor(d["std"]).view(3, 1, 1)

    def __len__(self):
        return len(self.paths)

    def crop_box(self, w, h):  # torchvision's RandomResizedCrop.get_params
        for _ in range(10):
            area = w * h * random.uniform(*self.scale)
            aspect = math.exp(random.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
            cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                x, y = random.randint(0, w - cw), random.randint(0, h - ch)
                return x, y, x + cw, y + ch
        cw, ch = w, h
        if w / h < self.ratio[0]:
            ch = round(w / self.ratio[0])
        elif w / h > self.ratio[1]:
            cw = round(h * self.ratio[1])
        return (w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            im = im.convert("RGB")
            im = im.resize((self.size, self.size), Image.BICUBIC, box=self.crop_box(*im.size))
        if self.flip and random.random() < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        image = (torch.from_numpy(np.array(im, dtype=np.uint8)).permute(2, 0, 1).float() / 255 - self.mean) / self.std
        t = self.tokenizer
        ids = [t.bos_id] + t.encode(random.choice(self.captions[i]))[: self.context - 2] + [t.eos_id]
        return image, torch.tensor(ids + [t.pad_id] * (self.context - len(ids)), dtype=torch.long)


def learning_rate(step, total, o):  # src/train/lr_schedule.cpp
    if step < o["warmup_steps"]:
        return o["lr"] * (step + 1) / o["warmup_steps"]
    if o["schedule"] == "constant" or total <= o["warmup_steps"]:
        return o["lr"]
    return 0.5 * (1 + math.cos(math.pi * (step - o["warmup_steps"]) / (total - o["warmup_steps"]))) * o["lr"]


def decayed(name, p):  # src/train/optimizer.cpp
    return p.dim() >= 2 and not any(s in name for s in ("embedding", "ln_", "logit_scale", "bias"))


def batches(loader):
    while True:
        yield from loader


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--steps", type=int, default=100, help="timed steps, after 3 warm-up steps")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: data.workers)")
    ap.add_argument("--tokenizer", default="", help="SentencePiece model (default: tokenizer.path)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default=None, help="default: train.precision")
    args = ap.parse_args()
    with open(args.config, encoding="utf-8") as f:
        cfg = merged(DEFAULTS, yaml.safe_load(f))
    workers = cfg["data"]["workers"] if args.workers is None else args.workers
    precision = args.precision or cfg["train"]["precision"]
    if precision not in ("fp32", "bf16") or args.steps < 1:
        sys.exit(f"error: needs --steps >= 1 and precision fp32 or bf16 (got {args.steps}, {precision})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(cfg["run"]["seed"])
    random.seed(cfg["run"]["seed"])

    spm_path = args.tokenizer or cfg["tokenizer"]["path"]
    tokenizer, tok_note = None, "no SentencePiece model given (--tokenizer or tokenizer.path)"
    if spm_path:
        try:
            tokenizer, tok_note = SentencePieceTokenizer(spm_path), f"sentencepiece {spm_path}"
        except ImportError:
            tok_note = "python3-sentencepiece is not installed"
    dataset = PairDataset(cfg, None)
    if tokenizer is None:
        tokenizer = WhitespaceTokenizer(c for cs in dataset.captions for c in cs)
        tok_note = f"whitespace vocabulary of {tokenizer.vocab_size} ids, a fallback: {tok_note}"
    dataset.tokenizer = tokenizer
    model = Clip(cfg["model"], tokenizer.vocab_size, tokenizer.eos_id)  # like ours: the tokenizer's size
    o = cfg["optim"]
    named = list(model.named_parameters())
    optimizer = torch.optim.AdamW(
        [{"params": [p for n, p in named if decayed(n, p)], "weight_decay": o["weight_decay"]},
         {"params": [p for n, p in named if not decayed(n, p)], "weight_decay": 0.0}],
        lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
    batch = cfg["train"]["batch_size"]
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, drop_last=True,
                                         num_workers=workers, persistent_workers=workers > 0)
    if len(loader) == 0:
        sys.exit(f"error: {len(dataset)} pairs, fewer than one batch of {batch}")
    print(f"torch {torch.__version__}: {sum(p.numel() for _, p in named) / 1e6:.2f}M parameters, batch {batch}, "
          f"{precision}, {args.threads} thread(s), {workers} loader worker(s); tokenizer: {tok_note}", flush=True)

    warmup, total = 3, args.steps + 3
    schedule_steps = cfg["train"]["steps"] or total
    split = {"data wait": 0.0, "forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    it = batches(loader)
    for step in range(total):
        if step == warmup:
            split = dict.fromkeys(split, 0.0)
            start = time.perf_counter()
        t0 = time.perf_counter()
        images, tokens = next(it)
        t1 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(images, tokens)
        if not math.isfinite(loss.item()):
            sys.exit(f"error: non-finite loss at step {step + 1}")
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, schedule_steps, o)
        nn.utils.clip_grad_norm_(model.parameters(), float("inf"))  # mmtrain always computes the norm
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            model.fusion.logit_scale.clamp_(0, math.log(100))
        t4 = time.perf_counter()
        for key, seconds in zip(split, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            split[key] += seconds
    elapsed = time.perf_counter() - start
    del it, loader  # stops the workers, so that their peak RSS shows in RUSAGE_CHILDREN

    n = args.steps
    print(f"{n} steps in {elapsed:.2f} s, last loss {loss.item():.4f}")
    print("per step: " + ", ".join(f"{k} {v / n * 1000:.1f} ms" for k, v in split.items()) + f", total {elapsed / n * 1000:.1f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB main process, "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB largest worker")
    print(f"samples/s: {n * batch / elapsed:.1f}")


if __name__ == "__main__":
    main()
