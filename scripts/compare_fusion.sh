#!/usr/bin/env bash
# Compares late, early and cross_attention fusion on the binding task: writes data/binding
# (`mmtrain data binding`), trains configs/binding.yaml once per fusion type with the same seed,
# data and steps, and tabulates zero-shot top-1 on the held-out scenes and image-to-text R@1, plain
# and re-ranked by the match head, with training speed and parameter count. The table goes to
# stdout and runs/compare_fusion.md.
#
# Late fusion has no match head: it trains with the clip term only and is not re-ranked. The fused
# types train with clip + itm. A run that exists is continued or just re-read (--resume latest);
# delete runs/binding_<type> to train it again. Arguments are passed to every `mmtrain train`,
# e.g. `scripts/compare_fusion.sh --set train.steps=1000`.
set -euo pipefail
cd "$(dirname "$0")/.."
mmtrain=${MMTRAIN:-build/mmtrain}
config=configs/binding.yaml
data=data/binding
table=runs/compare_fusion.md
fusions=(late early cross_attention)

if [[ ! -x $mmtrain ]]; then
  echo "compare_fusion: $mmtrain not found; build first (bash scripts/build.sh)" >&2
  exit 1
fi
[[ -f $data/train.csv ]] || $mmtrain data binding --out $data

for fusion in "${fusions[@]}"; do
  if [[ $fusion == late ]]; then
    fusion_args=(--set 'loss.terms={clip: 1.0}' --set eval.rerank_k=0)
  else
    fusion_args=(--set 'loss.terms={clip: 1.0, itm: 1.0}')
  fi
  echo "== training binding_$fusion" >&2
  $mmtrain train -c $config --set model.fusion.type="$fusion" --set run.name="binding_$fusion" \
    "${fusion_args[@]}" "$@" --resume latest
done

# last_eval RUN_DIR KEY: KEY of the run's last `kind: eval` record, or nothing.
last_eval() {
  if command -v jq >/dev/null; then
    jq -rs --arg key "$2" '[.[] | select(.kind == "eval")] | last | .[$key] // empty' \
      "$1/metrics.jsonl"
  else
    python3 -c 'import json, sys
records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
evals = [r for r in records if r.get("kind") == "eval"]
value = evals[-1].get(sys.argv[2]) if evals else None
print("" if value is None else value)' "$1/metrics.jsonl" "$2"
  fi
}

# median_speed RUN_DIR: the median samples_per_s over the run's `kind: train` records.
median_speed() {
  if command -v jq >/dev/null; then
    jq -rs '[.[] | select(.kind == "train") | .samples_per_s] | sort
            | if length == 0 then empty else .[length / 2 | floor] end' "$1/metrics.jsonl"
  else
    python3 -c 'import json, sys
speeds = sorted(r["samples_per_s"] for r in map(json.loads, filter(str.strip, open(sys.argv[1])))
                if r.get("kind") == "train")
print(speeds[len(speeds) // 2] if speeds else "")' "$1/metrics.jsonl"
  fi
}

# From the trainer's "model: N parameters (vision V, text T, fusion F)" line: "N F".
parameter_counts() {
  sed -n 's/.*model: \([0-9]*\) parameters (vision [0-9]*, text [0-9]*, fusion \([0-9]*\)).*/\1 \2/p' \
    "$1/train.log" | tail -n 1
}

percent() { [[ -n $1 ]] && awk -v x="$1" 'BEGIN { printf "%.1f%%", 100 * x }' || echo "—"; }
count() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%.2fM", n / 1e6; else printf "%.0fk", n / 1e3 }'; }

classes=$(wc -l < $data/classnames.txt)
heldout=$(tail -n +2 $data/zeroshot_heldout.csv | cut -f2 | sort -u | wc -l)
{
  echo "## Fusion on the binding task"
  echo
  echo "Zero-shot: images of the $heldout held-out scenes, classified among all $classes scenes" \
    "(chance $(percent "$(awk -v c="$classes" 'BEGIN { print 1 / c }')")); each held-out" \
    "scene's side- and colour-swapped variants were trained. Retrieval: one image per scene," \
    "image to text. Re-ranked: the top $(awk '/rerank_k:/ { print $2 }' $config) by embedding" \
    "similarity, reordered by the match head. $config, arguments: ${*:-none}."
  echo
  echo "| fusion | zero-shot held-out top-1 (plain / re-ranked) | retrieval i2t R@1 (plain / re-ranked) | samples/s | params |"
  echo "|---|---|---|---|---|"
  for fusion in "${fusions[@]}"; do
    run=runs/binding_$fusion
    read -r total fusion_params <<<"$(parameter_counts "$run")"
    speed=$(median_speed "$run")
    printf '| %s | %s / %s | %s / %s | %s | %s (fusion %s) |\n' "$fusion" \
      "$(percent "$(last_eval "$run" zeroshot/top1)")" \
      "$(percent "$(last_eval "$run" zeroshot/top1_rerank)")" \
      "$(percent "$(last_eval "$run" retrieval/image_to_text_R@1)")" \
      "$(percent "$(last_eval "$run" retrieval/image_to_text_R@1_rerank)")" \
      "$(awk -v s="${speed:-0}" 'BEGIN { printf "%.0f", s }')" \
      "$(count "${total:-0}")" "$(count "${fusion_params:-0}")"
  done
} | tee $table
echo >&2
echo "written to $table" >&2
