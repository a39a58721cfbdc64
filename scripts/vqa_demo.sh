#!/usr/bin/env bash
# The built-in question-answering task: installs what is missing, builds, writes the table-top
# scenes, trains configs/vqa_scenes.yaml (cross-attention fusion and the vqa head), and scores its
# answers about new scenes and about the combinations held out of training, each beside the same
# model's answers with the images blanked (the question-only baseline). RUN names the run (default
# vqa_scenes); extra arguments go to `train` (RUN=vqa_early scripts/vqa_demo.sh --set
# model.fusion.type=early).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo_binary.sh

# Scenes written before the size and position questions existed are written again.
[[ -f data/scenes/heldout.jsonl ]] && grep -q '"question_type":"position"' data/scenes/test.jsonl ||
  $mmtrain data scenes --out data/scenes
run=${RUN:-vqa_scenes}
$mmtrain train -c configs/vqa_scenes.yaml --set run.name="$run" --resume latest "$@"
checkpoint=runs/$run/checkpoints/latest

metric() { sed -n "s/.*\"vqa\/$1\": \([0-9.e-]*\).*/\1/p"; }
test=$($mmtrain eval --checkpoint "$checkpoint" --json - 2>/dev/null)
heldout=$($mmtrain eval --checkpoint "$checkpoint" --set eval.vqa.path=data/scenes/heldout.jsonl --json - 2>/dev/null)
echo
echo "VQA accuracy of $checkpoint:"
printf '  %-28s %-10s %s\n' "" "accuracy" "question only (images blanked)"
printf '  %-28s %-10s %s\n' "new scenes ($(wc -l < data/scenes/test.jsonl))" "$(metric accuracy <<< "$test")" "$(metric question_only <<< "$test")"
printf '  %-28s %-10s %s\n' "held-out combinations ($(wc -l < data/scenes/heldout.jsonl))" "$(metric accuracy <<< "$heldout")" "$(metric question_only <<< "$heldout")"
# The six types asked before the one-object size and position questions, weighted by their counts.
six_types() {
  for type in colour shape count existence spatial comparison; do
    echo "$(grep -c "\"question_type\":\"$type\"" data/scenes/test.jsonl) $(metric $type <<< "$test")"
  done | awk '{n += $1; s += $1 * $2} END {printf "%.4f", s / n}'
}
printf '  %-28s %s\n' "new scenes, six types" "$(six_types)"
echo "per question type (new scenes):"
for type in colour shape size position count existence spatial comparison; do printf '  %-12s %s\n' $type "$(metric $type <<< "$test")"; done
