#!/usr/bin/env bash
# Writes the committed seed inputs under fuzz/corpus/TARGET/ from real files: what `mmtrain data`
# writes, the repo's configs, the VQA v2 fixture, torch.save files from Debian's python3-torch and
# images from Pillow. Each input that a target reads in modes starts with its mode byte (see the
# target's source). Checkpoint seeds are tests/fixtures/checkpoints/, used as they are.
# usage: fuzz/make_seeds.sh   (needs build/mmtrain and /usr/bin/python3 with torch and PIL)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmtrain=$PWD/build/mmtrain
"$mmtrain" data synth --out "$work/synth" --n 8 --image-size 16 >/dev/null
"$mmtrain" data scenes --out "$work/scenes" --scenes 2 --test-scenes 1 >/dev/null
"$mmtrain" data tabletop --out "$work/tabletop" --episodes 1 --test-episodes 1 >/dev/null

seed() {  # seed TARGET NAME MODE_BYTE_OR_EMPTY < content
  mkdir -p "$corpus/$1"
  { [[ -n $3 ]] && printf "\\x$3"; cat; } >"$corpus/$1/$2"
}

rm -rf "$corpus"/{config,csv,jsonl,coco,tar,safetensors,torch_pickle,clip_bpe,image}
seed config default.yaml "" <configs/default.yaml
{ cat configs/vqa_scenes.yaml; printf '\0optim.lr=1e-4\nmodel.fusion={type: early, layers: 1}\n'; } | seed config vqa_with_set.yaml ""

head -4 "$work/synth/train.csv" | seed csv pairs.tsv 00
head -4 "$work/synth/train.csv" | tr '\t' ',' | sed '1s/description/alt/' | seed csv pairs.csv 01
printf 'filepath,label\na.png,0\n"b, quoted.png",1\n' | seed csv labelled.csv 02
cut -f1 "$work/synth/train.csv" | head -3 | seed csv images.tsv 03

printf '{"image": "a.png", "caption": "a red cup"}\n{"image": "b.png", "caption": ["two", "captions"]}\n' | seed jsonl pairs.jsonl 00
head -3 "$work/scenes/train.jsonl" | seed jsonl vqa.jsonl 01
head -4 "$work/tabletop/train.jsonl" | seed jsonl episodes.jsonl 02

printf '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "a cup"}]}' | seed coco captions.json 00
{ cat tests/fixtures/vqa_v2/v2_OpenEnded_mscoco_val2014_questions.json; printf '\0';
  cat tests/fixtures/vqa_v2/v2_mscoco_val2014_annotations.json; } | seed coco vqa_v2.json 01

(cd "$work/synth" && cp images/train/000000.png s0.png && cp images/train/000001.png s1.png &&
  head -2 train.csv | tail -1 | cut -f2 >s0.txt && head -3 train.csv | tail -1 | cut -f2 >s1.txt &&
  tar --sort=name --format=gnu -cf shard.tar s0.png s0.txt s1.png s1.txt)
seed tar shard.tar 00 <"$work/synth/shard.tar"
seed tar shard_resumed.tar 01 <"$work/synth/shard.tar"

printf 'a photo of a red cup\n' | seed clip_bpe caption.txt 00
printf 'Caf\xc3\xa9 &amp; 2 dogs\xf0\x9f\x90\x95 \xff\xfe not utf-8\n' | seed clip_bpe unicode.txt 00
(set +o pipefail; zcat build/reference/bpe_simple_vocab_16e6.txt.gz | head -300) | gzip -9n | seed clip_bpe vocab_head.txt.gz 01

/usr/bin/python3 - "$corpus" <<'PY'
import io, json, struct, sys, zipfile
import torch
from PIL import Image
corpus = sys.argv[1]
def write(target, name, data):
    import os
    os.makedirs(f"{corpus}/{target}", exist_ok=True)
    open(f"{corpus}/{target}/{name}", "wb").write(data)
# safetensors, written by hand from its published layout: u64 header length, JSON, data.
header = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]},
          "__metadata__": {"format": "pt"}}
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
write("safetensors", "two.safetensors", struct.pack("<Q", len(text)) + text + struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<q", 7))
# torch.save: a state dict of views and dtypes, and a training checkpoint around one.
base = torch.arange(8, dtype=torch.float32)
state = {"w": base[:4].view(2, 2), "v": base[2:6], "i": torch.tensor([3], dtype=torch.int64), "h": torch.ones(3, dtype=torch.float16)}
for name, obj in [("state_dict", state), ("checkpoint", {"epoch": 1, "state_dict": {"w": torch.zeros(2)}})]:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write("torch_pickle", f"{name}.pt", buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        pickle = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        write("torch_pickle", f"{name}.pkl", archive.read(pickle))
# Images of each kind the loader sniffs or hands to OpenCV.
picture = Image.new("RGB", (8, 6), (200, 30, 40))
for number, (kind, options) in enumerate([("PNG", {}), ("JPEG", {"quality": 90}), ("BMP", {}), ("GIF", {}), ("WEBP", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"})]):
    buffer = io.BytesIO()
    picture.save(buffer, kind, **options)
    write("image", f"red{number}.{kind.lower()}", buffer.getvalue())
PY
du -sh "$corpus"
