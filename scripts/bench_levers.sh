#!/usr/bin/env bash
# The memory and fine-tuning levers, measured: what each costs or gains on this machine.
#
# usage: scripts/bench_levers.sh patch-dropout|checkpointing|finetune
#
#   patch-dropout  trains the demo (configs/default.yaml) and Fashion-MNIST (configs/fashion_mnist.yaml)
#                  with model.vision.patch_dropout 0 and 0.5: training samples/s (the mean of the
#                  progress records after the first) and zero-shot top-1 at the end, and the ratios.
#   checkpointing  `mmtrain bench train` on configs/bench_tiny_vit.yaml at batch BATCH (default 512)
#                  for STEPS (default 10) timed steps, with and without train.grad_checkpointing:
#                  peak memory (the process's maximum resident set) and samples/s, and the ratios.
#   finetune       an open_clip checkpoint (a CLIP trained on all of Fashion-MNIST with CLIP's
#                  tokenizer, exported with `mmtrain export --format open_clip`) fine-tuned on the
#                  five upper-body classes alone (t-shirt/top, pullover, dress, coat, shirt), fully
#                  and with partial unlocking plus layer decay; zero-shot top-1 over all ten classes
#                  (what the fine-tune kept) and over the five (what it learned), before and after.
#                  STEPS (default 300) and LR (default 3e-4) set the fine-tuning runs' length and rate.
#
# Runs go to runs/levers_*; a rerun reuses finished runs. Needs build/mmtrain, data/synth
# (`mmtrain data synth --out data/synth`) and data/fashion_mnist (scripts/prepare_fashion_mnist.sh);
# finetune also CLIP's BPE vocabulary (BPE=..., default build/reference/bpe_simple_vocab_16e6.txt.gz
# from scripts/reference_data.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mmtrain=${MMTRAIN:-build/mmtrain}

usage() { sed -n 's/^# \{0,1\}//; 4p' "$0" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
[[ -x $mmtrain ]] || { echo "bench_levers: $mmtrain is missing: build it first (scripts/build.sh)" >&2; exit 2; }

# The mean samples/s of a run's train records after the first (which includes start-up).
samples_per_s() {
  python3 -c 'import json, sys
rates = [r["samples_per_s"] for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "train"][1:]
print(f"{sum(rates) / len(rates):.0f}")' "$1"
}

# The last eval record's value of a metric.
last_eval() {
  python3 -c 'import json, sys
evals = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "eval"]
print(f"{evals[-1][sys.argv[2]]:.3f}")' "$1" "$2"
}

# train CONFIG NAME [--set ...]: a finished run of that name is reused.
train() {
  local config=$1 name=$2
  shift 2
  [[ -f runs/$name/checkpoints/latest ]] && grep -q '"kind": *"eval"' "runs/$name/metrics.jsonl" 2>/dev/null && return
  rm -rf "runs/$name"
  "$mmtrain" train -c "$config" --set run.name="$name" "$@"
}

# zeroshot/top1 of `eval --json -` on stdin (after the table, the JSON object).
top1() { python3 -c 'import json, sys; text = sys.stdin.read(); print("%.3f" % json.loads(text[text.index("{"):])["zeroshot/top1"])'; }

ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

patch_dropout() {
  printf '%-14s %-14s %10s %10s\n' config patch_dropout samples/s zero-shot
  for config in default fashion_mnist; do
    local base="" base_rate=""
    for p in 0 0.5; do
      local name=levers_${config}_pd${p/./}
      train "configs/$config.yaml" "$name" --set model.vision.patch_dropout=$p >/dev/null 2>&1
      local rate top1
      rate=$(samples_per_s "runs/$name/metrics.jsonl")
      top1=$(last_eval "runs/$name/metrics.jsonl" zeroshot/top1)
      printf '%-14s %-14s %10s %10s\n' "$config" "$p" "$rate" "$top1"
      if [[ -z $base ]]; then base=$top1 base_rate=$rate; else
        echo "  $config: patch dropout 0.5 trains $(ratio "$rate" "$base_rate")x as fast; zero-shot $base -> $top1"
      fi
    done
  done
}

checkpointing() {
  local batch=${BATCH:-512} steps=${STEPS:-10}
  [[ -f data/synth/train.csv ]] || "$mmtrain" data synth --out data/synth --image-size 64
  local out=()
  for on in false true; do
    local report
    report=$("$mmtrain" bench train -c configs/bench_tiny_vit.yaml --steps "$steps" \
      --set train.batch_size="$batch" --set train.grad_checkpointing=$on 2>/dev/null)
    local memory rate
    memory=$(sed -n 's/^peak memory: \([0-9]*\) MiB/\1/p' <<< "$report")
    rate=$(sed -n 's/^samples\/s: \([0-9.]*\)/\1/p' <<< "$report")
    printf 'grad_checkpointing %-5s  batch %s  peak memory %6s MiB  %7s samples/s\n' $on "$batch" "$memory" "$rate"
    out+=("$memory" "$rate")
  done
  echo "checkpointing: peak memory x $(ratio "${out[2]}" "${out[0]}"), time per step x $(ratio "${out[1]}" "${out[3]}")"
}

finetune() {
  local bpe=${BPE:-build/reference/bpe_simple_vocab_16e6.txt.gz}
  [[ -f $bpe ]] || { echo "bench_levers: no CLIP BPE vocabulary at $bpe (scripts/reference_data.sh, or BPE=...)" >&2; exit 2; }
  local clip="--set tokenizer.type=clip_bpe --set tokenizer.path=$bpe"
  # The source model, as an open_clip user would bring it.
  train configs/fashion_mnist.yaml levers_source $clip >/dev/null 2>&1
  local exported=runs/levers_source/open_clip
  [[ -f $exported/open_clip_config.json ]] ||
    "$mmtrain" export --checkpoint runs/levers_source/checkpoints/latest --format open_clip --out "$exported" >/dev/null
  # The five upper-body classes (labels 0, 2, 3, 4, 6): training captions that name none of the
  # other five, and the test images of those labels.
  local tops=data/fashion_mnist/levers_tops
  mkdir -p "$tops"
  grep -v -E 'trouser|sandal|sneaker|bag|boot' data/fashion_mnist/train.csv |
    sed 's|^train/|../train/|' > "$tops/train.csv"
  awk -F'\t' 'NR == 1 || $2 ~ /^(0|2|3|4|6)$/' data/fashion_mnist/test.csv | sed 's|^test/|../test/|' > "$tops/test.csv"
  local init="--set model.init_from.format=open_clip --set model.init_from.weights=$exported/open_clip_model.safetensors"
  init+=" --set model.init_from.config=$exported/open_clip_config.json"
  local steps=${STEPS:-300} lr=${LR:-3e-4}
  local common="$clip $init --set data.train.path=$tops/train.csv --set train.steps=$steps --set optim.lr=$lr"
  common+=" --set optim.warmup_steps=30 --set train.checkpoint_every=0"
  local full=levers_ft_full_${steps}_$lr partial=levers_ft_partial_${steps}_$lr
  train configs/fashion_mnist.yaml "$full" $common >/dev/null 2>&1
  train configs/fashion_mnist.yaml "$partial" $common --set model.lock.vision=true \
    --set model.lock.vision_unlocked_groups=2 --set model.lock.text=true --set model.lock.text_unlocked_layers=2 \
    --set optim.layer_decay=0.75 >/dev/null 2>&1
  printf '%-26s %12s %12s\n' model "all 10" "the 5 tuned"
  for name in levers_source "$full" "$partial"; do
    local all five
    all=$("$mmtrain" eval --checkpoint "runs/$name/checkpoints/latest" --json - 2>/dev/null | top1)
    five=$("$mmtrain" eval --checkpoint "runs/$name/checkpoints/latest" --set eval.zeroshot.type=csv \
      --set eval.zeroshot.path=$tops/test.csv --json - 2>/dev/null | top1)
    printf '%-26s %12s %12s\n' "$name" "$all" "$five"
  done
}

case $1 in
  patch-dropout) patch_dropout ;;
  checkpointing) checkpointing ;;
  finetune) finetune ;;
  *) usage ;;
esac
