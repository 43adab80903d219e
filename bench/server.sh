#!/usr/bin/env bash
# Hosted server throughput: `ninescope serve --driver local:DIR` versus diod on the same export, in one
# run. Prints diodcat bulk read MiB/s (a 256 MiB file, -m 65536, best of $REPS) and diodload operation
# rates (-r 5 -n 4, copy ctl:zero → ctl:null, and -g getattr), with ratios ours/diod.
# Target (issue 4): ≥ 1.0× diod. Not a test.
#   SIZE_MB=256 REPS=3 LOAD_SECS=5 LOAD_THREADS=4 PIN=1 bash bench/server.sh
# PIN=1 (default) runs both servers on CPU 1 and the clients on CPU 0 (taskset), so each server gets the
# same single core; PIN=0 lets the scheduler place everything. Besides the rates it prints each server's
# CPU time per operation (per 64 KiB read for bulk; from /proc/PID/stat), which a noisy machine moves much
# less than the rates.
source "$(dirname "$0")/common.sh"
SIZE_MB="${SIZE_MB:-256}"; REPS="${REPS:-3}"; LOAD_SECS="${LOAD_SECS:-5}"; LOAD_THREADS="${LOAD_THREADS:-4}"; PIN="${PIN:-1}"
for t in diod diodcat diodload; do command -v "$t" >/dev/null || { echo "$t is not installed (make deps)"; exit 1; }; done
ensure_release

SRV=(); CLI=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then SRV=(taskset -c 1); CLI=(taskset -c 0); fi

EXP="$(mktemp -d "${TMPDIR:-/tmp}/ninescope-bench-XXXXXX")"
OURS_PID=""; DIOD_PID=""
cleanup() {
  [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null
  [ -n "$DIOD_PID" ] && kill "$DIOD_PID" 2>/dev/null && wait "$DIOD_PID" 2>/dev/null
  rm -rf "$EXP"
}
trap cleanup EXIT
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$EXP/big.bin"
cat "$EXP/big.bin" > /dev/null   # into the page cache for both servers

DPORT=$(free_port)
"${SRV[@]}" diod -f -n -c /dev/null -L "$OUT/diod-bench.log" -l "127.0.0.1:$DPORT" -e "$EXP" -e ctl >/dev/null 2>&1 &
DIOD_PID=$!; wait_port "$DPORT" || { echo "diod did not start"; exit 1; }
OPORT=$(free_port)
"${SRV[@]}" "$NINESCOPE" serve --listen "127.0.0.1:$OPORT" --driver "local:$EXP" 2>"$OUT/serve-bench.log" &
OURS_PID=$!; wait_port "$OPORT" || { echo "ninescope serve did not start:"; cat "$OUT/serve-bench.log"; exit 1; }

# bulk PORT -> best MiB/s of REPS diodcat runs (output checked once by size)
bulk() {
  local best=0 t0 t1 n rate
  for _ in $(seq 1 "$REPS"); do
    t0=$(now_ns)
    n=$("${CLI[@]}" diodcat -s "127.0.0.1:$1" -a "$EXP" -m 65536 big.bin | wc -c)
    t1=$(now_ns)
    [ "$n" -eq "$((SIZE_MB * 1024 * 1024))" ] || { echo "diodcat on port $1 returned $n bytes" >&2; echo 0; return; }
    rate=$(python3 -c "print(f'{$SIZE_MB/(($t1-$t0)/1e9):.0f}')")
    best=$(python3 -c "print(max($best, $rate))")
  done
  echo "$best"
}
# cpu PID -> the process's user+system CPU time in clock ticks
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# per_op TICKS OPS -> µs of CPU per operation
per_op() { python3 -c "t,o=float('$1'),float('$2'); print(f'{t/$HZ/o*1e6:.0f}' if o else 'n/a')"; }
# measure NAME PID CMD… -> runs CMD, sets NAME (its output) and NAME_CPU (CPU ticks PID used meanwhile)
measure() {
  local name=$1 pid=$2 c0 c1 out; shift 2
  c0=$(cpu "$pid"); out=$("$@"); c1=$(cpu "$pid")
  printf -v "$name" '%s' "$out"; printf -v "${name}_CPU" '%s' "$((c1 - c0))"
}
# load PORT [-g] -> ops/s
load() {
  "${CLI[@]}" diodload -s "127.0.0.1:$1" -r "$LOAD_SECS" -n "$LOAD_THREADS" "${@:2}" 2>&1 | sed -n 's/.*diodload: \([0-9]*\) ops\/s.*/\1/p' | tail -1
}

echo "export: $EXP (big.bin ${SIZE_MB} MiB); pinning: ${PIN}; ninescope: $NINESCOPE"
measure D_BULK "$DIOD_PID" bulk "$DPORT";  measure O_BULK "$OURS_PID" bulk "$OPORT"
measure D_LOAD "$DIOD_PID" load "$DPORT";  measure O_LOAD "$OURS_PID" load "$OPORT"
measure D_GET "$DIOD_PID" load "$DPORT" -g; measure O_GET "$OURS_PID" load "$OPORT" -g
READS=$(( REPS * SIZE_MB * 16 ))   # 64 KiB reads over all bulk runs
printf "%-40s %12s %12s %8s   %s\n" "" "diod" "ninescope" "ratio" "server CPU µs/op: diod ninescope"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodcat bulk read, MiB/s (-m 65536)" "$D_BULK" "$O_BULK" "$(ratio "$O_BULK" "$D_BULK")" \
  "$(per_op "$D_BULK_CPU" "$READS")" "$(per_op "$O_BULK_CPU" "$READS")"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodload zero→null, ops/s (-n $LOAD_THREADS)" "${D_LOAD:-0}" "${O_LOAD:-0}" "$(ratio "${O_LOAD:-0}" "${D_LOAD:-0}")" \
  "$(per_op "$D_LOAD_CPU" "$(( ${D_LOAD:-0} * LOAD_SECS ))")" "$(per_op "$O_LOAD_CPU" "$(( ${O_LOAD:-0} * LOAD_SECS ))")"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodload -g getattr, ops/s (-n $LOAD_THREADS)" "${D_GET:-0}" "${O_GET:-0}" "$(ratio "${O_GET:-0}" "${D_GET:-0}")" \
  "$(per_op "$D_GET_CPU" "$(( ${D_GET:-0} * LOAD_SECS ))")" "$(per_op "$O_GET_CPU" "$(( ${O_GET:-0} * LOAD_SECS ))")"
