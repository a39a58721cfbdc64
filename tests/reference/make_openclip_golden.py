"""Makes the open_clip reference data that mmtrain's parity tests compare against.

Usage: python make_openclip_golden.py OUTDIR
(scripts/reference_data.sh runs it in a virtualenv that has exactly the versions below.)

Versions (the output is only claimed for these; see scripts/reference_data.sh):
  from PyPI, pinned:   open_clip_torch==3.3.0, ftfy==6.3.1, wcwidth==0.2.13, regex==2024.11.6,
                       tqdm==4.67.1, safetensors==0.4.5
  from Debian 12:      python3-torch 1.13.1 (reports 1.13.0a0), python3-torchvision 0.14.1,
                       python3-pil 9.4.0, python3-numpy 1.24.2
open_clip is used as a library only (create_model_and_transforms, get_tokenizer, ClipLoss); it
declares torch>=2.0 and timm/huggingface-hub, but the plain ViT CLIP below needs none of that.

Writes, into OUTDIR:
  bpe_simple_vocab_16e6.txt.gz      the CLIP BPE merges, copied out of the installed open_clip
  openclip_golden/
    images/raw_<i>_<W>x<H>.png      six images of different sizes and aspect ratios, drawn from a
                                    seeded generator (numpy default_rng(0)): a background colour and
                                    four filled ellipses each; the last is converted to greyscale (L)
    model.safetensors               the model's state_dict with open_clip's key names, fp32
    model.pt                        the same state_dict as torch.save writes it (zip, OrderedDict)
    golden.safetensors              in.images   open_clip's eval preprocessing of the PNGs above
                                                (bicubic resize of the short side, centre crop,
                                                CLIP mean/std), [6, 3, 64, 64]
                                    in.tokens   open_clip's tokenizer on the captions, [6, 77]
                                    out.image_features, out.text_features          (projected)
                                    out.image_features_norm, out.text_features_norm (L2-normalised)
                                    out.logits_per_image   logit_scale.exp() * img_norm @ txt_norm.T
                                    out.loss    ClipLoss on the normalised features, [1]
                                    grad.<key>  gradient of out.loss for the GRAD_KEYS below
    meta.json                       made_by, seed, open_clip_config (model_cfg + preprocess_cfg, as
                                    open_clip's own open_clip_config.json), captions, tokens,
                                    image_files, loss, logit_scale_exp, notes

The model: the tiny ViT CLIP in MODEL_CFG, built by open_clip after torch.manual_seed(0) (open_clip's
own initialisation), then every parameter, in named_parameters() order, gets
+ 0.02 * randn_like(p) from the same generator, so that no LayerNorm weight stays 1 and no bias 0.

Reruns on one machine give byte-identical files. Images, weights, tokens and in.images depend on
no floating-point kernels and are the same everywhere; the out.* and grad.* values go through
BLAS and vectorised kernels picked for the CPU, so another CPU may round their last bits
differently (relative differences around 1e-6, far inside the tests' tolerances).
"""

import json
import logging
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageDraw

import open_clip
import safetensors.torch

OPEN_CLIP_VERSION = "3.3.0"
SEED = 0
PERTURBATION = 0.02

MODEL_CFG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "patch_size": 16, "width": 64, "layers": 2, "head_width": 32,
                   "mlp_ratio": 4.0},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
PREPROCESS_CFG = {
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}

# Plain, shouted, HTML-escaped and accented, punctuated, apostrophe and digits, and one longer than
# the context (truncated with the end token kept).
CAPTIONS = [
    "a red circle",
    "A  Photo of a RED circle!!",
    "na\u00efve caf\u00e9 &amp; \u00e9moji",
    "two dogs, playing.",
    "it's 3 o'clock",
    "aaaaa " + " ".join(["very long caption "] * 12),
]

# (width, height); the last one is saved greyscale.
IMAGE_SIZES = [(96, 80), (64, 128), (100, 100), (200, 150), (64, 64), (37, 91)]
GREYSCALE = {5}

GRAD_KEYS = [
    "logit_scale",
    "positional_embedding",
    "text_projection",
    "transformer.resblocks.0.attn.in_proj_weight",
    "visual.class_embedding",
    "visual.conv1.weight",
    "visual.proj",
    "visual.transformer.resblocks.0.attn.in_proj_weight",
]

NOTES = ("in.images are open_clip's eval preprocessing of images/*.png (PIL bicubic resize of the "
         "short side, centre crop, CLIP mean/std). Features from in.images should match to ~1e-5 "
         "relative; from the raw PNGs they depend on the resize kernel.")


def draw_images(folder):
    """Background plus four ellipses per image, all from one generator; returns relative paths."""
    rng = np.random.default_rng(SEED)

    def colour():
        return tuple(int(v) for v in rng.integers(0, 255, 3))

    files = []
    for index, (width, height) in enumerate(IMAGE_SIZES):
        image = Image.new("RGB", (width, height), colour())
        draw = ImageDraw.Draw(image)
        for _ in range(4):
            x0, y0 = int(rng.integers(0, width - 4)), int(rng.integers(0, height - 4))
            dx, dy = int(rng.integers(4, width)), int(rng.integers(4, height))
            draw.ellipse([x0, y0, x0 + dx, y0 + dy], fill=colour())
        if index in GREYSCALE:
            image = image.convert("L")
        name = f"images/raw_{index}_{width}x{height}.png"
        image.save(os.path.join(folder, name))
        files.append(name)
    return files


def build_model(config_dir):
    """open_clip's model and eval transform for MODEL_CFG, seeded and perturbed."""
    torch.manual_seed(SEED)
    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + config_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * PERTURBATION)
    return model, preprocess


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_openclip_golden.py OUTDIR\n")
        return 2
    if open_clip.__version__ != OPEN_CLIP_VERSION:
        sys.stderr.write(f"make_openclip_golden.py: needs open_clip {OPEN_CLIP_VERSION}, "
                         f"found {open_clip.__version__}\n")
        return 1
    logging.getLogger().setLevel(logging.ERROR)  # "no CLIP weights found" is what we want here
    torch.set_num_threads(1)  # one summation order, whatever the machine's core count

    out = argv[1]
    golden = os.path.join(out, "openclip_golden")
    os.makedirs(os.path.join(golden, "images"), exist_ok=True)

    vocab = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    shutil.copyfile(vocab, os.path.join(out, "bpe_simple_vocab_16e6.txt.gz"))

    image_files = draw_images(golden)

    open_clip_config = {"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS_CFG}
    with tempfile.TemporaryDirectory() as config_dir:
        with open(os.path.join(config_dir, "open_clip_config.json"), "w", encoding="utf-8") as f:
            json.dump(open_clip_config, f)
        model, preprocess = build_model(config_dir)
        tokenizer = open_clip.get_tokenizer("local-dir:" + config_dir)

    state = model.state_dict()
    safetensors.torch.save_file(dict(state), os.path.join(golden, "model.safetensors"))
    torch.save(state, os.path.join(golden, "model.pt"))

    images = torch.stack([preprocess(Image.open(os.path.join(golden, name))) for name in image_files])
    tokens = tokenizer(CAPTIONS)

    # With autograd on throughout, so the raw features take the same kernels as the forward pass
    # that the loss and gradients come from (an eval no_grad pass may take MHA's fused fast path).
    image_features = model.encode_image(images).detach()
    text_features = model.encode_text(tokens).detach()
    image_norm, text_norm, logit_scale = model(images, tokens)
    loss = open_clip.ClipLoss()(image_norm, text_norm, logit_scale)
    loss.backward()
    parameters = dict(model.named_parameters())

    tensors = {
        "in.images": images,
        "in.tokens": tokens,
        "out.image_features": image_features,
        "out.text_features": text_features,
        "out.image_features_norm": image_norm.detach(),
        "out.text_features_norm": text_norm.detach(),
        "out.logits_per_image": (logit_scale * image_norm @ text_norm.t()).detach(),
        "out.loss": loss.detach().reshape(1),
    }
    for key in GRAD_KEYS:
        tensors["grad." + key] = parameters[key].grad
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()},
                                os.path.join(golden, "golden.safetensors"))

    meta = {
        "made_by": f"open_clip {open_clip.__version__} on torch {torch.__version__}",
        "seed": SEED,
        "open_clip_config": open_clip_config,
        "captions": CAPTIONS,
        "tokens": tokens.tolist(),
        "image_files": image_files,
        "loss": loss.item(),
        "logit_scale_exp": logit_scale.item(),
        "notes": NOTES,
    }
    with open(os.path.join(golden, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
