#!/usr/bin/env bash
# Training throughput of mmtrain against a plain-PyTorch loop of the same model, data and optimizer
# (scripts/bench_train_torch.py), on the CPU, as samples/s and their ratio.
#
# usage: scripts/bench_train.sh [CONFIG] [STEPS]     (defaults: configs/bench_tiny_vit.yaml, 100)
#
# Runs, each for STEPS timed steps after its warm-up:
#   mmtrain fp32   build/mmtrain bench train -c CONFIG --steps STEPS   (run.threads, data.workers)
#   PyTorch fp32   the reference with 1 compute thread and 2 loader workers (open_clip's defaults
#                  here), then with 2 threads
#   mmtrain bf16   the same as the first with --set train.precision=bf16
# Every run's output is shown as it goes; a table and the ratios come at the end. Exits 1 when a run
# failed (the others still run), 2 on bad arguments. PYTHON overrides the interpreter
# (default /usr/bin/python3, which has Debian's python3-torch). ROUNDS=N (default 1) repeats the
# four runs in turn N times and keeps each one's best rate: on a shared machine that drifts by
# 10-20% within minutes, alternating rounds keep the ratios from measuring the drift.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n 's/^# \{0,1\}//; 5p' "$0" >&2; exit 2; }
[[ $# -le 2 ]] || usage
[[ ${1:-} == -h || ${1:-} == --help ]] && usage
config=${1:-configs/bench_tiny_vit.yaml}
steps=${2:-100}
rounds=${ROUNDS:-1}
mmtrain=build/mmtrain
python=${PYTHON:-/usr/bin/python3}

die() { echo "bench_train: $*" >&2; exit 2; }
[[ -f $config ]] || die "no config file '$config'"
[[ $steps =~ ^[1-9][0-9]*$ ]] || die "STEPS must be a positive integer, got '$steps'"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$rounds'"
[[ -x $mmtrain ]] || die "$mmtrain is missing: build it first (scripts/build.sh)"
"$python" -c 'import torch, yaml, PIL, numpy' 2>/dev/null ||
  die "$python lacks torch, yaml, PIL or numpy (Debian: python3-torch python3-yaml python3-pil python3-numpy)"

# The training data the config names; the built-in set is made when it is the one missing.
data=$("$python" -c 'import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1])) or {}
print(((cfg.get("data") or {}).get("train") or {}).get("path", ""))' "$config")
[[ -n $data ]] || die "$config sets no data.train.path"
if [[ ! -f $data ]]; then
  [[ $data == data/synth/train.csv ]] || die "training data '$data' (data.train.path in $config) does not exist"
  echo "== making the built-in data: $mmtrain data synth --out data/synth --image-size 64"
  "$mmtrain" data synth --out data/synth --image-size 64
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
names=() rates=() failed=0

# run NAME COMMAND...: shows the output and keeps, per NAME, the best `samples/s: X` over the
# rounds (a run that fails counts as failed whatever the other rounds gave).
runs=0
run() {
  local name=$1 log rc=0 rate i slot=-1
  shift
  log="$logs/$((runs++)).log"
  echo
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log" || rc=$?
  rate=$(grep -o 'samples/s: *[0-9.eE+-]*' "$log" | tail -n 1 | sed 's/samples\/s: *//' || true)
  if [[ $rc -ne 0 || -z $rate ]]; then
    echo "== $name failed (exit $rc$([[ $rc -eq 0 ]] && echo ', no samples/s line'))" >&2
    rate=failed
    failed=1
  fi
  for i in "${!names[@]}"; do [[ ${names[$i]} == "$name" ]] && slot=$i; done
  if [[ $slot -lt 0 ]]; then
    names+=("$name")
    rates+=("$rate")
  elif [[ ${rates[$slot]} != failed ]] && { [[ $rate == failed ]] || greater "$rate" "${rates[$slot]}"; }; then
    rates[$slot]=$rate
  fi
}

greater() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

# ratio A B: A / B to two decimals, or "-" when either is not a number.
ratio() {
  [[ $1 =~ ^[0-9.eE+-]+$ && $2 =~ ^[0-9.eE+-]+$ ]] || { echo -; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

torch_ref=(scripts/bench_train_torch.py --config "$config" --steps "$steps" --workers 2)
for ((round = 1; round <= rounds; round++)); do
  run "mmtrain fp32" "$mmtrain" bench train -c "$config" --steps "$steps"
  # The same OpenBLAS kernels for PyTorch as mmtrain picked (it names them on its start-up line):
  # on a CPU OpenBLAS does not recognise, Python would otherwise run the generic SSE3 kernels, 3-5x
  # slower, and the ratio would measure that instead of the two training loops.
  coretype=${OPENBLAS_CORETYPE:-$(grep -o '(\([A-Za-z0-9]*\) kernels)' "$logs/0.log" | head -n 1 | sed 's/(\(.*\) kernels)/\1/' || true)}
  blas_env=()
  if [[ -n $coretype ]]; then
    blas_env=(env "OPENBLAS_CORETYPE=$coretype")
    echo "== PyTorch runs with OPENBLAS_CORETYPE=$coretype, the kernels mmtrain uses"
  fi
  run "PyTorch fp32, 1 thread, 2 workers" "${blas_env[@]}" "$python" "${torch_ref[@]}" --threads 1
  run "PyTorch fp32, 2 threads, 2 workers" "${blas_env[@]}" "$python" "${torch_ref[@]}" --threads 2
  run "mmtrain bf16" "$mmtrain" bench train -c "$config" --steps "$steps" --set train.precision=bf16
done

echo
echo "$config, $steps steps, best of $rounds round(s), $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-36s %10s   %s\n' run samples/s ""
for i in "${!names[@]}"; do
  case ${names[$i]} in
    PyTorch*) note="mmtrain / PyTorch = $(ratio "${rates[0]}" "${rates[$i]}")" ;;
    "mmtrain bf16") note="bf16 / fp32 = $(ratio "${rates[$i]}" "${rates[0]}"), bf16 / PyTorch 1 thread = $(ratio "${rates[$i]}" "${rates[1]}")" ;;
    *) note="" ;;
  esac
  printf '  %-36s %10s   %s\n' "${names[$i]}" "${rates[$i]}" "$note"
done
exit "$failed"
