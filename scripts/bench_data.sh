#!/usr/bin/env bash
# Data-pipeline throughput of mmtrain (`mmtrain bench data`) against the equivalent torchvision
# pipeline (scripts/bench_data_torch.py) on the same JPEG files and captions, as images/s and ratio.
#
# usage: scripts/bench_data.sh [-n IMAGES] [-w WORKERS] [-b BATCH] [-s BATCHES] [-r ROUNDS] [-d WORKDIR]
#
#   -n IMAGES   JPEGs per size (default 2000)        -s BATCHES  timed batches per run (default 60)
#   -w WORKERS  loader workers, both sides (default  -r ROUNDS   runs of each, best kept (default 2)
#               2, or the WORKERS environment var.)  -d WORKDIR  keep the data there for reuse
#   -b BATCH    batch size (default 64)                          (default: a temporary folder)
# Makes two sets of IMAGES random JPEGs (noise, gradients and shapes, quality 90) with captions and
# a TSV (filepath, title): 80x80 sources for a 64 px model image and 256x256 sources for 224 px.
# Per case it runs, on the same files and with the same workers, batch and number of batches:
#   mmtrain      build/mmtrain bench data -c WORKDIR/bench_data.yaml --set data.train.path=...
#                --set model.vision.image_size=64|224 --set data.workers=W ... --steps BATCHES
#                (decode, RandomResizedCrop with Pillow's bicubic, normalise, SentencePiece, collate)
#   torchvision  PIL open/convert, RandomResizedCrop(bicubic), ToTensor, Normalize, tokenised
#                captions, DataLoader(shuffle, drop_last, persistent_workers), 2 untimed batches
# Both at crop scale (0.9, 1.0), ratio (0.75, 1.3333), CLIP mean/std, context length 77. ROUNDS
# rounds, the order alternating, and the best images/s of each kept: on a small shared machine
# other processes' load only ever lowers a rate. Every run's output is shown as it goes, with how
# busy the CPUs were just before; a table, the ratios (mmtrain / torchvision) and one line
# `ratio 64px: Rx` per case come at the end. Exits 1 when a run failed (the others still run), 2 on
# bad arguments. PYTHON overrides the interpreter (default /usr/bin/python3, which has Debian's
# python3-torch, python3-torchvision and python3-pil).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '5,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
die() { echo "bench_data: $*" >&2; exit 2; }
images=2000 workers=${WORKERS:-2} batch=64 batches=60 rounds=2 workdir=""
while getopts "n:w:b:s:r:d:h" opt; do
  case $opt in
    n) images=$OPTARG ;;
    w) workers=$OPTARG ;;
    b) batch=$OPTARG ;;
    s) batches=$OPTARG ;;
    r) rounds=$OPTARG ;;
    d) workdir=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage
for pair in "IMAGES:$images" "BATCH:$batch" "BATCHES:$batches" "ROUNDS:$rounds"; do
  [[ ${pair#*:} =~ ^[1-9][0-9]*$ ]] || die "${pair%%:*} must be a positive integer, got '${pair#*:}'"
done
[[ $workers =~ ^[0-9]+$ ]] || die "WORKERS must be a non-negative integer, got '$workers'"
((images >= batch)) || die "IMAGES ($images) must be at least one batch ($batch)"

mmtrain=${MMTRAIN:-build/mmtrain}
python=${PYTHON:-/usr/bin/python3}
script_start=$SECONDS
[[ -x $mmtrain ]] || die "$mmtrain is missing: build it first (scripts/build.sh)"
"$python" -c 'import torch, torchvision, PIL, numpy' 2>/dev/null ||
  die "$python lacks torch, torchvision, PIL or numpy (Debian: python3-torch python3-torchvision python3-pil python3-numpy)"

logs=$(mktemp -d)
if [[ -z $workdir ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/bench_data.XXXXXX")
  trap 'rm -rf "$logs" "$workdir"' EXIT
else
  mkdir -p "$workdir"
  trap 'rm -rf "$logs"' EXIT
fi
workdir=$(cd "$workdir" && pwd)

# ---- the data: IMAGES JPEGs per source size, reused when WORKDIR already holds that many ----
make_set() {  # make_set SIDE: WORKDIR/img<SIDE>/*.jpg and WORKDIR/pairs<SIDE>.tsv
  local side=$1 tsv="$workdir/pairs$1.tsv"
  if [[ -f $tsv && $(($(wc -l <"$tsv") - 1)) -eq $images ]]; then
    echo "== reusing $images ${side}x$side JPEGs in $workdir/img$side"
    return
  fi
  echo "== making $images ${side}x$side JPEGs (quality 90) and $tsv"
  "$python" - "$workdir" "$side" "$images" <<'EOF'
import os, sys
import numpy as np
from PIL import Image, ImageDraw

root, side, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1000 + side)
folder = os.path.join(root, f"img{side}")
os.makedirs(folder, exist_ok=True)
colours = "red orange yellow green teal blue purple pink brown black white grey golden silver".split()
shapes = "circle square triangle star ring cross stripe blob line dot spiral wave".split()
things = ("dog cat bird car bicycle tree house boat flower mountain river street city beach forest "
          "table chair window door lamp cup plate book phone clock horse cow sheep train bus plane").split()
words = ("a an the of with and on in near behind under over next to some two three small large tiny "
         "huge bright dark old new wooden metal shiny blurry photo picture drawing painting close-up "
         "view scene background foreground sunny cloudy night morning evening outdoor indoor").split()
vocab = colours + shapes + things + words
with open(os.path.join(root, f"pairs{side}.tsv.tmp"), "w", encoding="utf-8") as tsv:
    tsv.write("filepath\ttitle\n")
    for i in range(n):
        # A smooth colour field (a coarse random grid upsampled), shapes, then grain: busy enough
        # that decoding costs what it costs on photos, unlike flat colours.
        grid = rng.integers(0, 256, (rng.integers(2, 6), rng.integers(2, 6), 3), dtype=np.uint8)
        im = Image.fromarray(grid).resize((side, side), Image.BICUBIC)
        draw = ImageDraw.Draw(im)
        for _ in range(rng.integers(3, 12)):
            box = sorted(rng.integers(-side // 4, side + side // 4, 2)), sorted(rng.integers(-side // 4, side + side // 4, 2))
            xy = [box[0][0], box[1][0], box[0][1], box[1][1]]
            fill = tuple(int(c) for c in rng.integers(0, 256, 3))
            kind = rng.integers(0, 4)
            if kind == 0:
                draw.ellipse(xy, fill=fill)
            elif kind == 1:
                draw.rectangle(xy, fill=fill)
            elif kind == 2:
                draw.polygon([tuple(int(v) for v in rng.integers(0, side, 2)) for _ in range(rng.integers(3, 7))], fill=fill)
            else:
                draw.line(xy, fill=fill, width=int(rng.integers(1, max(2, side // 16))))
        pixels = np.asarray(im, dtype=np.int16) + rng.normal(0, rng.uniform(4, 20), (side, side, 3)).astype(np.int16)
        name = f"{i:06d}.jpg"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(os.path.join(folder, name), quality=90)
        caption = " ".join(rng.choice(vocab, rng.integers(4, 25)))
        tsv.write(f"img{side}/{name}\t{caption}\n")
os.replace(os.path.join(root, f"pairs{side}.tsv.tmp"), os.path.join(root, f"pairs{side}.tsv"))
EOF
}
make_set 80
make_set 256

# What `bench data` reads: the data, the tokenizer (SentencePiece trained on the captions, as
# configs/bench_tiny_vit.yaml does), batch, workers, context length and the train transform.
config="$workdir/bench_data.yaml"
cat >"$config" <<EOF
# Written by scripts/bench_data.sh; the per-case keys come with --set.
run: {name: bench_data, seed: 0}
data:
  train: {type: csv, path: "", image_key: filepath, caption_key: title, separator: "\t"}
  workers: 2
  augment: {crop_scale: [0.9, 1.0], crop_ratio: [0.75, 1.3333], flip: false, color_jitter: 0.0}
  mean: [0.48145466, 0.4578275, 0.40821073]
  std:  [0.26862954, 0.26130258, 0.27577711]
tokenizer: {type: sentencepiece, vocab_size: 512}
model:
  vision: {image_size: 224}
  text: {context_length: 77}
train: {batch_size: 64}
EOF

failed=0
declare -A best=()  # NAME -> best images/s over the rounds, or "failed"
declare -A all=()   # NAME -> every round's images/s

# cpu_busy: percent of all cores busy over one second (others' load shows before a run).
cpu_busy() {
  local a b c d e f g t1 i1
  read -r _ a b c d e f g _ </proc/stat; t1=$((a + b + c + d + e + f + g)); i1=$((d + e))
  sleep 1
  read -r _ a b c d e f g _ </proc/stat
  echo $((100 * ((a + b + c + d + e + f + g - t1) - (d + e - i1)) / (a + b + c + d + e + f + g - t1 + 1)))
}

# run NAME COMMAND...: shows the output and keeps the best `images/s: X` NAME printed so far.
run() {
  local name=$1 log rc=0 rate
  shift
  log="$logs/run.log"
  echo
  echo "== $name (round $round of $rounds; CPU busy before: $(cpu_busy)%): $*"
  "$@" 2>&1 | grep -v '^sentencepiece_trainer.*LOG(INFO)' | tee "$log" || rc=$?
  rate=$(grep -o 'images/s: *[0-9.eE+-]*' "$log" | tail -n 1 | sed 's/images\/s: *//' || true)
  if [[ $rc -ne 0 || -z $rate ]]; then
    echo "== $name failed (exit $rc$([[ $rc -eq 0 ]] && echo ', no images/s line'))" >&2
    best[$name]=failed
    failed=1
    return
  fi
  all[$name]="${all[$name]:-}${all[$name]:+ }$rate"
  if [[ ${best[$name]:-} != failed ]] &&
    awk -v a="$rate" -v b="${best[$name]:-0}" 'BEGIN { exit !(a + 0 > b + 0) }'; then
    best[$name]=$rate
  fi
}

# ratio A B: A / B to two decimals, or "-" when either is not a number.
ratio() {
  [[ $1 =~ ^[0-9.eE+-]+$ && $2 =~ ^[0-9.eE+-]+$ ]] || { echo -; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

cases=("80 64" "256 224")
for ((round = 1; round <= rounds; ++round)); do
  for c in "${cases[@]}"; do
    read -r side size <<<"$c"
    tsv="$workdir/pairs$side.tsv"
    cat "$workdir/img$side"/*.jpg >/dev/null  # both sides read from the page cache
    mm=("$mmtrain" bench data -c "$config" --steps "$batches" --set "data.train.path=$tsv"
        --set "model.vision.image_size=$size" --set "data.workers=$workers" --set "train.batch_size=$batch")
    tv=("$python" scripts/bench_data_torch.py --data "$tsv" --size "$size" --batch "$batch"
        --workers "$workers" --batches "$batches" --warmup 2 --context-length 77)
    if ((round % 2 == 1)); then  # alternate who goes first, against drifting background load
      run "mmtrain ${size}px" "${mm[@]}"; run "torchvision ${size}px" "${tv[@]}"
    else
      run "torchvision ${size}px" "${tv[@]}"; run "mmtrain ${size}px" "${mm[@]}"
    fi
  done
done

echo
echo "$images pairs per size, batch $batch, $batches timed batches, $workers workers both sides, best of" \
  "$rounds round(s); $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)); $((SECONDS - script_start)) s in all"
printf '  %-20s %10s   %s\n' run images/s "every round"
for c in "${cases[@]}"; do
  read -r side size <<<"$c"
  for name in "mmtrain ${size}px" "torchvision ${size}px"; do
    printf '  %-20s %10s   %s\n' "$name" "${best[$name]:-failed}" "${all[$name]:-}"
  done
done
for c in "${cases[@]}"; do
  read -r side size <<<"$c"
  echo "ratio ${size}px: $(ratio "${best[mmtrain ${size}px]:-}" "${best[torchvision ${size}px]:-}")x" \
    "(mmtrain / torchvision, ${side}x$side JPEG sources, $workers workers each)"
done
exit "$failed"
