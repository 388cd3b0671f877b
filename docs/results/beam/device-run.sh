#!/usr/bin/env bash
# beam helper's device check: beam/bidirectional tests with CUDA, then the RESULTS experiments on cuda.
set -uo pipefail
ROOT=$PWD; B=$ROOT/out/beam-device/gpu-bundle; J=$B/jdk/bin/java
[ -x $J ] || (cd out/beam-device && xz -dc beam-bundle.tar.xz | tar -xf -) || exit 1
BACKEND=${BACKEND:-cuda}; EP_DATE=${EP_DATE:-10}; EP_ADD=${EP_ADD:-10}; LINES=${LINES:-50000}; TT=${TT:-200}; TR=${TR:-110}
OUT=${OUT:-/tmp/beamout}; mkdir -p $OUT
mkdir -p $B/jdk/lib/fonts /usr/share/fonts/truetype/dejavu && cp $ROOT/out/beam-device/fonts/*.ttf $B/jdk/lib/fonts/ && cp $ROOT/out/beam-device/fonts/*.ttf /usr/share/fonts/truetype/dejavu/
log() { echo "$@" | tee -a $OUT/exp.log; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/exp.log
if command -v nvcc >/dev/null && [ "$BACKEND" = cuda ]; then make -B -C native cuda OUT="$B/classes/org/seq4j/native/linux-x86_64" >/dev/null 2>&1 && log "kernels rebuilt with nvcc"; fi
CP="$ROOT/out/beam-device/patch:$B/classes:$B/test-classes:$B/bindings-classes"; for j in $B/lib/*.jar; do case $j in *console-standalone*) ;; *) CP=$CP:$j;; esac; done
if [ "$TT" -gt 0 ]; then
(cd java && timeout $TT $J --enable-native-access=ALL-UNNAMED -Xss4m -jar $B/lib/junit-platform-console-standalone-*.jar execute --class-path "$CP" \
  --select-class org.seq4j.models.BeamSearchTest --select-class org.seq4j.models.TrainingStepEquivalenceTest \
  --select-class org.seq4j.models.SteadyStateAllocationTest --select-class org.seq4j.models.GenerateTest \
  --select-class org.seq4j.backend.cuda.CudaBackendGpuTest \
  --reports-dir /tmp/reports --details tree --disable-banner > $OUT/test.log 2>&1; echo "tests exit $?" >> $OUT/test.log)
grep -E "tests (successful|failed|skipped|aborted)|tests exit|\[X\]" $OUT/test.log | head -30
grep -h -o 'backend cuda is not available here: [^]]*' /tmp/reports/*.xml | head -1
fi
mkdir -p /tmp/fccache; printf '<?xml version="1.0"?>\n<fontconfig><dir>%s</dir><cachedir>/tmp/fccache</cachedir></fontconfig>\n' "$ROOT/out/beam-device/fonts" > /tmp/fonts.conf
export FONTCONFIG_FILE=/tmp/fonts.conf
S="$J --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -cp $CP org.seq4j.cli.Main"
R=/tmp/runs; mkdir -p $R
train() { # name args...
  local name=$1; shift
  local t0=$SECONDS
  timeout $TR $S train "$@" --backend $BACKEND --lines $LINES --out $R/$name > $R/$name.log 2>&1; local rc=$?
  log "== train $name ($*): rc $rc, $((SECONDS - t0)) s"
  grep -E "^epoch [0-9]+/[0-9]+: loss" $R/$name.log | tee -a $OUT/exp.log | tail -2
  [ $rc = 0 ] || tail -4 $R/$name.log
  cp $R/$name/metrics.csv $OUT/metrics-$name.csv 2>/dev/null
}
train date-uni date --model attention --epochs $EP_DATE
train date-bi date --model attention --bidirectional --epochs $EP_DATE
train add-att addition --model attention --wordvec 64 --lr 0.003 --epochs $EP_ADD
for name in add-att date-uni date-bi; do
  [ -f $R/$name/model.npz ] || continue
  for k in greedy 1 3 5; do
    a=(); [ $k = greedy ] || a=(--beam $k)
    log "== eval $name beam $k"
    timeout 40 $S eval --checkpoint $R/$name --backend $BACKEND "${a[@]}" 2>&1 | grep -E "accuracy|decoding|seq4j:" | tee -a $OUT/exp.log
  done
done
