# Sourced by scripts/bench (and scripts/test, which checks it): a suite's JMH arguments with SEQ4J_BENCH_JMH_ARGS's.
# with_extra ARGS... sets args to ARGS less the options that extra (SEQ4J_BENCH_JMH_ARGS as an array) gives, each
# with its value (JMH takes an option once), then extra. A -p replaces only the -p of the same parameter: any -p in
# extra dropped every -p of the suite, so that SEQ4J_BENCH_JMH_ARGS="-p mnk=64x64x64" took the kernels suite's
# "-p backend=java" away and its "gemm-java" run measured openblas.
with_extra() {
  local i e a mine theirs
  local -a given=("$@")
  args=()
  for ((i = 0; i < ${#given[@]}; i++)); do
    a=${given[i]}
    for ((e = 0; e < ${#extra[@]}; e++)); do
      [[ ${extra[e]} == -* && $a == "${extra[e]}" ]] || continue
      mine=${given[i + 1]:-} theirs=${extra[e + 1]:-}
      if [ "$a" = -p ] && [ "${mine%%=*}" != "${theirs%%=*}" ]; then
        continue   # -p NAME=...: another parameter than this -p of extra's
      fi
      i=$((i + 1))   # the option and its value
      continue 2
    done
    args+=("$a")
  done
  args+=("${extra[@]}")
}
