#!/usr/bin/env bash
# Compiles the BPF objects: build.sh WORK_DIR OUT_DIR
# vmlinux.h is generated from the running kernel's BTF; CO-RE relocations make
# the object portable to other kernels with BTF.
set -euo pipefail
work=$1 out=$2
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" "$out"
for t in clang llvm-strip bpftool; do
  command -v $t >/dev/null || { echo "peekd build: '$t' is missing; run scripts/setup (apt-get install clang llvm libbpf-dev bpftool)" >&2; exit 1; }
done
if [ ! -s "$work/vmlinux.h" ]; then
  if [ -r /sys/kernel/btf/vmlinux ]; then
    bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h.tmp"
    mv "$work/vmlinux.h.tmp" "$work/vmlinux.h"
  else
    echo "peekd build: /sys/kernel/btf/vmlinux is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1
  fi
fi
for name in peekd floor; do
  in="$src/$name.bpf.c"
  [ -f "$in" ] || continue
  if [ ! -f "$out/$name.bpf.o" ] || [ "$in" -nt "$out/$name.bpf.o" ] || [ "$src/peekd_events.h" -nt "$out/$name.bpf.o" ]; then
    clang -g -O2 -Wall -Wno-unused-function -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
      -I"$work" -I"$src" -c "$in" -o "$out/$name.bpf.o.tmp"
    # DWARF is for humans; libbpf needs only .BTF and .BTF.ext, which -g keeps. The object
    # is embedded in the jar and held in memory while the daemon runs: 0.9 MB -> 0.2 MB.
    llvm-strip -g "$out/$name.bpf.o.tmp"
    mv "$out/$name.bpf.o.tmp" "$out/$name.bpf.o"
  fi
done
