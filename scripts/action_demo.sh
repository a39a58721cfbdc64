#!/usr/bin/env bash
# The built-in vision-language-action task: installs what is missing, builds, writes the table-top
# episodes (the scripted expert's demonstrations), trains configs/tabletop_action.yaml, and runs
# the policy closed loop in the simulator on new scenes and on the held-out colour-kind pairs,
# beside the scripted expert and the same policy with every instruction blanked. With PRETRAINED=1
# it also trains a contrastive model (clip + itm) on the scenes' captions and a policy started from
# it, to compare with the policy trained from scratch. RUN names the run (default tabletop_action);
# EPISODES the rollouts per split (default 200); extra arguments go to the policy's `train`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo_binary.sh

# Episodes written before the steps said where the named object is ("target") are written again.
[[ -f data/tabletop/heldout.jsonl ]] && grep -q '"target"' data/tabletop/heldout.jsonl ||
  $mmtrain data tabletop --out data/tabletop
run=${RUN:-tabletop_action}
episodes=${EPISODES:-200}
$mmtrain train -c configs/tabletop_action.yaml --set run.name="$run" --resume latest "$@"

rollout() {  # NAME ARGS...: rollouts of both splits, metrics in runs/$run/rollout_NAME.json
  local name=$1
  shift
  $mmtrain rollout --episodes "$episodes" --split test,heldout --out "runs/$run/rollout_$name.json" "$@" >/dev/null
}
rollout expert --expert
rollout policy --checkpoint "runs/$run/checkpoints/latest" --frames "runs/$run/rollouts"
rollout blind --checkpoint "runs/$run/checkpoints/latest" --blank-instruction
rows=(expert policy blind)
if [[ ${PRETRAINED:-0} == 1 ]]; then
  $mmtrain train -c configs/tabletop_action.yaml --set run.name="${run}_clip" --resume latest \
    --set data.train.type=csv --set data.train.path=data/tabletop/train_captions.csv --set "data.train.separator=','" \
    --set data.train.image_key=image --set data.train.caption_key=caption --set 'model.head={type: ""}' \
    --set 'loss.terms={clip: 1.0, itm: 1.0}' --set train.steps=1000 --set train.precision=bf16 \
    --set 'eval.actions.path=""' --set eval.rollout.episodes=0
  $mmtrain train -c configs/tabletop_action.yaml --set run.name="${run}_from_clip" --resume latest \
    --set "model.init_from={format: mmtrain, weights: runs/${run}_clip/checkpoints/latest}" "$@"
  rollout from_clip --checkpoint "runs/${run}_from_clip/checkpoints/latest"
  rows+=(from_clip)
fi
$mmtrain report "runs/$run" >/dev/null

metric() { sed -n "s|.*\"rollout/$2\": \([0-9.e-]*\).*|\1|p" "runs/$run/rollout_$1.json"; }
echo
echo "Success rate of $episodes rollouts per split (runs/$run/rollout_*.json; frames in runs/$run/report.html):"
printf '  %-10s %-26s %-26s\n' "" "new scenes" "held-out compositions"
printf '  %-10s %-8s %-8s %-8s %-8s %-8s %-8s\n' "" pick place push pick place push
for row in "${rows[@]}"; do
  printf '  %-10s' "$row"
  for split in test heldout; do
    for task in pick place push; do printf ' %-8s' "$(metric "$row" "$split/success/$task")"; done
  done
  echo
done
