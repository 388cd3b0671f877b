#!/bin/sh
# clones.sh - runs kernels_bench once per clone, ROUNDS times interleaved (so load changes hit all clones alike),
# and prints each kernel's median over the rounds per clone.
# Usage: bench/c/clones.sh <dir of libseq4j_cpu.so> [rounds] [kernel filter]
set -e
lib=$(cd "$1" && pwd); rounds=${2:-3}; only=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
gcc -O2 -o "$tmp/kb" "$here/kernels_bench.c" -L"$lib" -l:libseq4j_cpu.so -Wl,-rpath,"$lib"
for r in $(seq "$rounds"); do
  for isa in avx512 avx2 baseline; do
    SEQ4J_CPU_ISA=$isa "$tmp/kb" $only | grep -v '^#' | sed "s/^/$isa /" >> "$tmp/all"
  done
done
uptime
awk '{split($4, a, "="); k = $1 " " $2 " " $3; v[k] = v[k] " " a[2]} END {for (k in v) print k, v[k]}' "$tmp/all" |
  sort -k2,2 -k1,1 | while read isa name shape vals; do
    med=$(printf '%s\n' $vals | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    printf '%-9s %-12s %-10s median_us=%s  (%s)\n' "$isa" "$name" "$shape" "$med" "$(echo $vals)"
  done
rm -rf "$tmp"
