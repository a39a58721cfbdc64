"""Makes the open_clip CoCa reference data (forward pass, caption loss, generate()) for mmtrain.

Usage: python make_coca_golden.py OUTDIR
Run it with the Python of the virtualenv ~/.cache/mmtrain/coca-venv, made once (about 1 minute;
pip's download cache: ~/.cache/pip) with:

  /usr/bin/python3 -m venv --system-site-packages ~/.cache/mmtrain/coca-venv
  ~/.cache/mmtrain/coca-venv/bin/python -m pip install --no-deps --no-input \
      --disable-pip-version-check --cache-dir ~/.cache/pip \
      -r tests/reference/requirements.txt \
      transformers==4.51.3 tokenizers==0.21.1 huggingface-hub==0.30.2 packaging==24.2 filelock==3.16.1
  ~/.cache/mmtrain/coca-venv/bin/python tests/reference/make_coca_golden.py /tmp/coca_golden

(It takes a few seconds and prints one line.)

Versions (the output is only claimed for these):
  from PyPI, pinned:   open_clip_torch==3.3.0, ftfy==6.3.1, wcwidth==0.2.13, regex==2024.11.6,
                       tqdm==4.67.1, safetensors==0.4.5 (tests/reference/requirements.txt), and
                       transformers==4.51.3, tokenizers==0.21.1, huggingface-hub==0.30.2,
                       packaging==24.2, filelock==3.16.1
  from Debian 12:      python3 3.11.2, python3-torch 1.13.1 (reports 1.13.0a0), python3-numpy
                       1.24.2, python3-requests 2.28.1, python3-yaml 6.0
Why these: open_clip's CoCa.generate() needs transformers (BeamSearchScorer, logits processors,
stopping criteria incl. StopStringCriteria/EosTokenCriteria, so transformers >= 4.41);
transformers >= 4.52 disables itself under torch < 2.1, so 4.51.3 is the newest that runs on
Debian's torch 1.13. transformers needs huggingface-hub, packaging and filelock at import time and
tokenizers when the generation classes are imported; fsspec (declared by huggingface-hub) is not
needed. `pip check` complains about open_clip's torch>=2.0/timm and huggingface-hub's fsspec: both
are unused here. If open_clip cannot import transformers it silently disables generate().

Writes, into OUTDIR:
  open_clip_config.json   {"model_cfg": MODEL_CFG, "preprocess_cfg": ...} as open_clip's own
                          open_clip_config.json holds it; open_clip.create_model("local-dir:OUTDIR")
                          loads it together with model.safetensors (this script checks that).
  model.safetensors       the CoCa state_dict with open_clip's key names, fp32 (no buffers: the two
                          attn_mask buffers are non-persistent)
  golden.safetensors      in.images               [8, 3, 32, 32] fp32 (N(0,1) noise; no preprocessing)
                          in.text                 [8, 16] int64, CLIP-tokenizer-like rows: SOT_ID,
                                                  tokens in 1..61, EOS_ID, then PAD_ID (0); row 1 has no
                                                  padding, row 3 has a 0 (CLIP's "!") mid-caption,
                                                  row 4 is an empty caption
                          out.image_features      [8, 64]  L2-normalised, as CoCa.forward returns them
                          out.text_features       [8, 64]  L2-normalised
                          out.image_embs          [8, 7, 64]  visual tokens fed to the decoder
                          out.text_token_embs     [8, 16, 64] text tower tokens (no ln_final)
                          out.logits              [8, 15, 64] decoder token logits of CoCa.forward
                                                  (text[:, :-1] teacher forcing)
                          out.labels              [8, 15] int64 = in.text[:, 1:]
                          out.logit_scale         [1] logit_scale.exp()
                          out.caption_loss        [1] CoCaLoss caption term, weight 1.0 (ignore pad 0)
                          out.contrastive_loss    [1] CoCaLoss contrastive term, weight 1.0
                          gen.<name>              int64 ids returned by model.generate() for each entry
                                                  of GENERATE_CALLS (images: in.images[meta images])
  meta.json               versions, seed, config, every generate() argument per call (all passed
                          explicitly), token ids, checks (fp64 rerun gives identical ids, greedy
                          decision margins, round trip through local-dir loading)

The model: MODEL_CFG built by open_clip.create_model after torch.manual_seed(0) (open_clip's own
initialisation); then text_decoder.text_projection, which open_clip leaves uninitialised
(torch.empty; MultimodalTransformer.init_parameters is never called), gets normal(0, 64**-0.5);
then every parameter, in named_parameters() order, gets + 0.02 * randn_like(p) (no LayerNorm stays
1, no bias 0); then the decoder's output columns for EOS_ID and for token 0 are scaled by
EOS_BOOST and ZERO_BOOST so that a random model sometimes ends captions early, by EOS or by
emitting the pad id 0 (which open_clip's sampling loop treats as finished), and beam search meets
both. Then the images and text are drawn from the same generator.

vocab_size is 64 (not CLIP's 49408): generate() takes sot/eos ids as arguments, so SOT_ID = 62 and
EOS_ID = 63 play the roles of 49406/49407 (vocab-2, vocab-1), and PAD_ID is 0 as in open_clip.
Reruns on one machine give byte-identical files (torch.set_num_threads(1)).
"""

import copy
import json
import logging
import os
import platform
import sys
import tempfile
import time

import numpy as np
import torch

import open_clip
import safetensors.torch

OPEN_CLIP_VERSION = "3.3.0"
TRANSFORMERS_VERSION = "4.51.3"
SEED = 0
PERTURBATION = 0.02
EOS_BOOST = 6.0
ZERO_BOOST = 1.5

VOCAB = 64
SOT_ID = VOCAB - 2
EOS_ID = VOCAB - 1
PAD_ID = 0
CONTEXT = 16

MODEL_CFG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 48, "layers": 2, "head_width": 24,
                   "mlp_ratio": 4.0, "attentional_pool": True, "attn_pooler_queries": 8,
                   "attn_pooler_heads": 2, "output_tokens": True},
    "text_cfg": {"context_length": CONTEXT, "vocab_size": VOCAB, "width": 64, "heads": 2, "layers": 2,
                 "embed_cls": True, "output_tokens": True},
    "multimodal_cfg": {"context_length": CONTEXT, "vocab_size": VOCAB, "width": 64, "heads": 2,
                       "layers": 2, "attn_pooler_heads": 2},
    "custom_text": True,
}
PREPROCESS_CFG = {
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}

BATCH = 8
# Caption lengths (tokens between SOT and EOS) of the in.text rows; row 3 gets a 0 at position 3.
CAPTION_LENGTHS = [3, CONTEXT - 2, 7, 5, 0, 10, 1, 12]
ZERO_AT = (3, 3)

# Every argument of CoCa.generate() except image/text, passed explicitly.
BASE = {"seq_len": 16, "max_seq_len": 77, "temperature": 1.0, "generation_type": "beam_search",
        "top_p": 0.1, "top_k": 1, "pad_token_id": PAD_ID, "eos_token_id": EOS_ID,
        "sot_token_id": SOT_ID, "num_beams": 6, "num_beam_groups": 3, "min_seq_len": 5,
        "stopping_criteria": None, "repetition_penalty": 1.0, "fixed_output_length": False}
ALL = list(range(BATCH))
EARLY = [4, 7]  # rows that end before seq_len in both greedy and beam search
GENERATE_CALLS = [
    # greedy: open_clip has no greedy mode; top_k with top_k=1 is argmax (then softmax/multinomial
    # on a one-hot distribution), with MinLength + RepetitionPenalty before and forced EOS last.
    ("greedy", ALL, {"generation_type": "top_k", "top_k": 1}),
    ("beam", ALL, {"generation_type": "beam_search", "num_beams": 3, "num_beam_groups": 1}),
    ("beam_defaults", ALL, {"generation_type": "beam_search"}),  # open_clip's 6 beams / 3 groups
    ("greedy_rep_fixed", ALL, {"generation_type": "top_k", "top_k": 1, "repetition_penalty": 1.3,
                               "fixed_output_length": True}),
    ("beam_rep_fixed", ALL, {"generation_type": "beam_search", "num_beams": 3, "num_beam_groups": 1,
                             "repetition_penalty": 1.3, "fixed_output_length": True}),
    ("greedy_early", EARLY, {"generation_type": "top_k", "top_k": 1}),
    ("beam_early", EARLY, {"generation_type": "beam_search", "num_beams": 3, "num_beam_groups": 1}),
]


def build_model(config_dir):
    torch.manual_seed(SEED)
    model = open_clip.create_model("local-dir:" + config_dir)
    with torch.no_grad():
        projection = model.text_decoder.text_projection
        torch.nn.init.normal_(projection, std=projection.shape[0] ** -0.5)
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * PERTURBATION)
        projection[:, EOS_ID] *= EOS_BOOST
        projection[:, 0] *= ZERO_BOOST
    return model.eval()


def make_text():
    text = torch.full((BATCH, CONTEXT), PAD_ID, dtype=torch.long)
    for row, length in enumerate(CAPTION_LENGTHS):
        text[row, 0] = SOT_ID
        text[row, 1:1 + length] = torch.randint(1, SOT_ID, (length,))
        text[row, 1 + length] = EOS_ID
    text[ZERO_AT] = 0
    return text


def generate(model, images, call):
    kwargs = dict(BASE)
    kwargs.update(call)
    with torch.no_grad():
        ids = model.generate(images, **kwargs)
    return ids, kwargs


def greedy_margin(model, images, ids, kwargs):
    """Smallest top-1 minus top-2 processed logit over the free (not forced) greedy steps."""
    with torch.no_grad():
        logits = model(images, ids, output_labels=False)["logits"].double()
    seq_len, min_len, penalty = kwargs["seq_len"], kwargs["min_seq_len"], kwargs["repetition_penalty"]
    margin = float("inf")
    for row in range(ids.shape[0]):
        for t in range(ids.shape[1] - 1):
            if ids[row, t].item() in (EOS_ID, PAD_ID) or t + 2 == seq_len:
                break
            scores = logits[row, t].clone()
            if t + 1 < min_len:
                scores[EOS_ID] = -float("inf")
            prefix = ids[row, :t + 1]
            seen = scores.gather(0, prefix)
            scores.scatter_(0, prefix, torch.where(seen < 0, seen * penalty, seen / penalty))
            top = scores.topk(2).values
            margin = min(margin, (top[0] - top[1]).item())
    return margin


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_coca_golden.py OUTDIR\n")
        return 2
    import transformers
    if open_clip.__version__ != OPEN_CLIP_VERSION or transformers.__version__ != TRANSFORMERS_VERSION:
        sys.stderr.write(f"make_coca_golden.py: needs open_clip {OPEN_CLIP_VERSION} and transformers "
                         f"{TRANSFORMERS_VERSION}, found {open_clip.__version__} and "
                         f"{transformers.__version__}\n")
        return 1
    from open_clip import coca_model
    if not coca_model._has_transformers:
        sys.stderr.write("make_coca_golden.py: open_clip.coca_model could not import transformers\n")
        return 1
    logging.getLogger().setLevel(logging.ERROR)  # "no CLIP weights found" is what we want here
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    start = time.time()

    out = argv[1]
    os.makedirs(out, exist_ok=True)
    open_clip_config = {"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS_CFG}
    with tempfile.TemporaryDirectory() as config_dir:
        with open(os.path.join(config_dir, "open_clip_config.json"), "w", encoding="utf-8") as f:
            json.dump(open_clip_config, f, indent=2)
        model = build_model(config_dir)
    assert type(model).__name__ == "CoCa"

    images = torch.randn(BATCH, 3, 32, 32)
    text = make_text()

    with torch.no_grad():
        result = model(images, text)
        _, image_embs = model._encode_image(images)
        _, text_token_embs = model._encode_text(text)
        losses = open_clip.CoCaLoss(caption_loss_weight=1.0, clip_loss_weight=1.0, pad_id=PAD_ID)(
            **result, output_dict=True)
    assert torch.equal(result["labels"], text[:, 1:])

    tensors = {
        "in.images": images,
        "in.text": text,
        "out.image_features": result["image_features"],
        "out.text_features": result["text_features"],
        "out.image_embs": image_embs,
        "out.text_token_embs": text_token_embs,
        "out.logits": result["logits"],
        "out.labels": result["labels"],
        "out.logit_scale": result["logit_scale"].reshape(1),
        "out.caption_loss": losses["caption_loss"].reshape(1),
        "out.contrastive_loss": losses["contrastive_loss"].reshape(1),
    }

    # A float64 copy (its logits rounded to float32, since open_clip's beam search keeps its scores
    # in float32) must produce the same ids: no decision in the golden data is a near tie.
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        logits64 = model64(images.double(), text)["logits"]
    forward64 = model64.forward

    def forward64_float_logits(*args, **kwargs):
        output = forward64(*args, **kwargs)
        if "logits" in output:
            output["logits"] = output["logits"].float()
        return output

    model64.forward = forward64_float_logits
    calls, checks = [], {"fp64_logits_max_abs_diff": (logits64 - result["logits"].double()).abs().max().item()}
    for name, rows, call in GENERATE_CALLS:
        ids, kwargs = generate(model, images[rows], call)
        ids64, _ = generate(model64, images[rows].double(), call)
        if not torch.equal(ids, ids64):
            sys.stderr.write(f"make_coca_golden.py: {name}: float64 ids differ from float32 ones\n"
                             f"{ids}\n{ids64}\n")
            return 1
        tensors["gen." + name] = ids
        entry = {"name": name, "key": "gen." + name, "images": rows, "kwargs": kwargs,
                 "shape": list(ids.shape), "ids": ids.tolist()}
        if kwargs["generation_type"] == "top_k":
            entry["min_margin"] = greedy_margin(model, images[rows], ids, kwargs)
        calls.append(entry)
    checks["fp64_same_ids"] = True
    checks["beam_defaults_equals_2_beams_1_group"] = torch.equal(
        tensors["gen.beam_defaults"],
        generate(model, images, {"generation_type": "beam_search", "num_beams": 2, "num_beam_groups": 1})[0])

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(state, os.path.join(out, "model.safetensors"))
    with open(os.path.join(out, "open_clip_config.json"), "w", encoding="utf-8") as f:
        json.dump(open_clip_config, f, indent=2)
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()},
                                os.path.join(out, "golden.safetensors"))

    # Round trip: open_clip itself loads OUTDIR (config + model.safetensors) and agrees bit for bit.
    reloaded = open_clip.create_model("local-dir:" + out).eval()
    with torch.no_grad():
        checks["local_dir_round_trip_logits_equal"] = torch.equal(reloaded(images, text)["logits"],
                                                                  result["logits"])
    if not checks["local_dir_round_trip_logits_equal"]:
        sys.stderr.write("make_coca_golden.py: reloading OUTDIR with open_clip gives other logits\n")
        return 1

    import huggingface_hub
    import tokenizers
    meta = {
        "made_by": "tests/reference/make_coca_golden.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "open_clip": open_clip.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "huggingface_hub": huggingface_hub.__version__,
                     "safetensors": safetensors.__version__},
        "seed": SEED,
        "perturbation": PERTURBATION,
        "eos_boost": EOS_BOOST,
        "zero_boost": ZERO_BOOST,
        "open_clip_config": open_clip_config,
        "sot_token_id": SOT_ID,
        "eos_token_id": EOS_ID,
        "pad_id": PAD_ID,
        "text": text.tolist(),
        "caption_loss": losses["caption_loss"].item(),
        "contrastive_loss": losses["contrastive_loss"].item(),
        "loss_weights": {"caption_loss_weight": 1.0, "clip_loss_weight": 1.0,
                         "note": "open_clip_train defaults are 2.0 (caption) and 1.0 (contrastive)"},
        "logit_scale_exp": result["logit_scale"].item(),
        "generate_calls": calls,
        "checks": checks,
    }
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    print(f"make_coca_golden.py: wrote {out} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
