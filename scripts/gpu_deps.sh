#!/usr/bin/env bash
# Packs what the GPU machine lacks for building mmtrain into gpu-deps.tar.xz (under 60 MiB, to be
# carried there beside the working tree): Debian's headers, libraries and CMake/pkg-config files
# of OpenCV (core, imgproc, imgcodecs), PCRE2, libarchive and libjpeg-turbo, Gloo's headers
# (pip's torch ships none), and every shared library those libraries load, except glibc's and
# the compiler's own. The layout mirrors /usr (include/, lib/x86_64-linux-gnu/), so OpenCV's CMake
# config finds itself there; scripts/gpu_check.sh unpacks it into gpu-deps/.
#
#   scripts/gpu_deps.sh        (run on the development machine, after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

arch=x86_64-linux-gnu
libdir=/usr/lib/$arch
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
out=gpu-deps.tar.xz
limit=$((60 * 1024 * 1024))

mkdir -p "$stage/include" "$stage/lib/$arch/pkgconfig" "$stage/lib/$arch/cmake"
cp -a /usr/include/opencv4 /usr/include/gloo "$stage/include/"
cp -a /usr/include/pcre2.h /usr/include/archive.h /usr/include/archive_entry.h "$stage/include/"
# libjpeg's too: OpenCV loads Debian's libjpeg.so.62, so mmtrain compiles against the same ABI.
cp -a /usr/include/jpeglib.h /usr/include/jerror.h /usr/include/jmorecfg.h "/usr/include/$arch/jconfig.h" "$stage/include/"
cp -a "$libdir/cmake/opencv4" "$stage/lib/$arch/cmake/"
for pc in opencv4 libpcre2-8 libarchive libjpeg; do cp -a "$libdir/pkgconfig/$pc.pc" "$stage/lib/$arch/pkgconfig/"; done
# The .pc files name /usr: scripts/gpu_check.sh rewrites that to where they were unpacked.

direct=()
for lib in libopencv_core libopencv_imgproc libopencv_imgcodecs libpcre2-8 libarchive libjpeg; do
  for file in "$libdir/$lib".so*; do cp -a "$file" "$stage/lib/$arch/"; direct+=("$file"); done
done
# What those load, resolved here; glibc, libstdc++, libgcc and zlib are on every Linux.
ldd "${direct[@]}" 2>/dev/null | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|libz|ld-linux[^/]*)\.so' |
  while read -r dep; do cp -L -n "$dep" "$stage/lib/$arch/" 2>/dev/null || true; done

tar -C "$stage" -cJf "$out" .
size=$(stat -c %s "$out")
echo "gpu_deps.sh: $out, $((size / 1024 / 1024)) MiB ($(find "$stage/lib/$arch" -name '*.so*' | wc -l) libraries)"
if ((size > limit)); then
  echo "gpu_deps.sh: larger than the 60 MiB that may be carried to the GPU machine" >&2
  exit 1
fi
