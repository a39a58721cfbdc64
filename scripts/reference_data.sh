#!/usr/bin/env bash
# Makes the reference data that the parity tests read (open_clip's tokenizer, preprocessing, weights,
# features, loss and gradients on a tiny seeded CLIP; see tests/reference/make_openclip_golden.py;
# and a tiny CoCa's features, logits, caption loss and generate() ids, in OUTDIR/coca_golden; see
# tests/reference/make_coca_golden.py) into OUTDIR.
#
#   scripts/reference_data.sh OUTDIR
#
# The generator runs in a virtualenv under ~/.cache/mmtrain/reference-venv, made once from
# /usr/bin/python3 with --system-site-packages (so Debian's python3-torch 1.13.1, torchvision, PIL
# and numpy are used) plus the PyPI pins in tests/reference/requirements.txt (pip's download cache:
# ~/.cache/pip). OUTDIR is left alone when its stamp says it was made by the same generator,
# requirements and Debian packages; otherwise it is made afresh. The CoCa generator runs in
# ~/.cache/mmtrain/coca-venv, made the same way with tests/reference/requirements-coca.txt added (and replaced only if it is empty or
# was made by this script). Prints one line on success.
# Exit status: 0 made or already up to date, 1 failed (the reason on stderr), 2 usage.
set -euo pipefail

me=reference_data.sh
if [[ $# -ne 1 || -z $1 || $1 == -* ]]; then
  echo "usage: scripts/$me OUTDIR" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
generator="$root/tests/reference/make_openclip_golden.py"
requirements="$root/tests/reference/requirements.txt"
coca_generator="$root/tests/reference/make_coca_golden.py"
coca_requirements="$root/tests/reference/requirements-coca.txt"
cache="$HOME/.cache/mmtrain"
venv="$cache/reference-venv"
coca_venv="$cache/coca-venv"
log="$cache/reference_data.log"
system_python=/usr/bin/python3
debian_packages=(python3-torch python3-torchvision python3-pil python3-numpy)

fail() {
  echo "$me: $*" >&2
  exit 1
}

mkdir -p "$(dirname "$1")" || fail "cannot create the parent folder of $1"
out="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
for file in "$generator" "$requirements" "$coca_generator" "$coca_requirements"; do
  [[ -f $file ]] || fail "$file is missing"
done

# What the output depends on: the generators, the PyPI pins and the Debian packages under them.
stamp="generator $(sha256sum "$generator" | cut -d' ' -f1)
requirements $(sha256sum "$requirements" | cut -d' ' -f1)
coca generator $(sha256sum "$coca_generator" | cut -d' ' -f1)
coca requirements $(sha256sum "$coca_requirements" | cut -d' ' -f1)"
if command -v dpkg-query >/dev/null; then
  stamp+="
$(dpkg-query -W -f='${Package} ${Version}\n' "${debian_packages[@]}" 2>/dev/null || true)"
fi
outputs=(bpe_simple_vocab_16e6.txt.gz openclip_golden/meta.json openclip_golden/golden.safetensors
         openclip_golden/model.safetensors openclip_golden/model.pt coca_golden/meta.json
         coca_golden/golden.safetensors coca_golden/model.safetensors coca_golden/open_clip_config.json)

up_to_date() {
  [[ -f $out/.stamp && "$(cat "$out/.stamp")" == "$stamp" ]] || return 1
  local file
  for file in "${outputs[@]}"; do [[ -s $out/$file ]] || return 1; done
}

if up_to_date; then
  echo "$me: $out is up to date"
  exit 0
fi

mkdir -p "$cache" || fail "cannot create $cache"
exec 9>"$cache/reference_data.lock"
if command -v flock >/dev/null; then flock 9; fi  # one maker at a time
if up_to_date; then
  echo "$me: $out is up to date"
  exit 0
fi
if [[ -e $out && ! -f $out/.stamp ]] && [[ ! -d $out || -n "$(ls -A "$out")" ]]; then
  fail "$out exists and was not made by $me; remove it or name another folder"
fi

start=$SECONDS

# A virtualenv VENV with the pins of REQUIREMENTS..., (re)made when it is missing or they changed.
make_venv() {
  local venv=$1
  shift
  local venv_stamp
  venv_stamp="$(cat "$@" | sha256sum | cut -d' ' -f1)"
  [[ -x $venv/bin/python && "$(cat "$venv/.mmtrain-requirements" 2>/dev/null)" == "$venv_stamp" ]] && return 0
  [[ -x $system_python ]] || fail "$system_python is missing (Debian's python3; scripts/setup.sh installs it)"
  if ! "$system_python" -c 'import torch, torchvision, PIL, numpy' >/dev/null 2>&1; then
    fail "$system_python cannot import torch, torchvision, PIL and numpy; install Debian's" \
         "${debian_packages[*]} (scripts/setup.sh as root)"
  fi
  rm -rf "$venv"
  if ! "$system_python" -m venv --system-site-packages "$venv" >"$log" 2>&1; then
    # Debian ships venv's pip bootstrap separately, in python3-venv.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "$me: installing python3-venv" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >>"$log" 2>&1 ||
        { cat "$log" >&2; fail "apt-get install python3-venv failed"; }
      rm -rf "$venv"
      "$system_python" -m venv --system-site-packages "$venv" >>"$log" 2>&1 ||
        { cat "$log" >&2; rm -rf "$venv"; fail "cannot create the virtualenv $venv"; }
    else
      cat "$log" >&2
      rm -rf "$venv"
      fail "cannot create the virtualenv $venv; install Debian's python3-venv (as root)"
    fi
  fi
  local file
  for file in "$@"; do
    if ! "$venv/bin/python" -m pip install --no-deps --no-input --disable-pip-version-check --quiet \
           --cache-dir "$HOME/.cache/pip" -r "$file" >>"$log" 2>&1; then
      cat "$log" >&2
      rm -rf "$venv"
      fail "pip could not install $file (is PyPI reachable?)"
    fi
  done
  echo "$venv_stamp" >"$venv/.mmtrain-requirements"
}

make_venv "$venv" "$requirements"
make_venv "$coca_venv" "$requirements" "$coca_requirements"

# Made beside OUTDIR, then moved into place, so that OUTDIR is always whole or absent.
tmp="$(mktemp -d "$(dirname "$out")/.$(basename "$out").XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! "$venv/bin/python" -I "$generator" "$tmp" >"$log" 2>&1; then
  cat "$log" >&2
  fail "$generator failed (log above, also in $log)"
fi
if ! "$coca_venv/bin/python" -I "$coca_generator" "$tmp/coca_golden" >"$log" 2>&1; then
  cat "$log" >&2
  fail "$coca_generator failed (log above, also in $log)"
fi
for file in "${outputs[@]}"; do [[ -s $tmp/$file ]] || fail "$generator did not write $file"; done
printf '%s\n' "$stamp" >"$tmp/.stamp"
chmod 755 "$tmp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$me: made $out in $((SECONDS - start)) s"
