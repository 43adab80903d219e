#!/usr/bin/env bash
# Hosted server throughput: `ninescope serve --driver local:DIR` versus diod on the same export, in one
# run. Prints diodcat bulk read MiB/s (a 256 MiB file, -m 65536, best of $ROUNDS) and diodload operation
# rates (-r 5 -n 4, copy ctl:zero → ctl:null, and -g getattr; the median of $ROUNDS), with ratios
# ours/diod. Each round runs every measurement on diod and then on ours, so drift and bursts of noise on
# this kind of shared machine fall on both alike.
# Target (issue 4): ≥ 1.0× diod. Not a test.
#   SIZE_MB=256 ROUNDS=3 LOAD_SECS=5 LOAD_THREADS=4 PIN=1 bash bench/server.sh
# PIN=1 (default) runs both servers on CPU 1 and the clients on CPU 0 (taskset), so each server gets the
# same single core; PIN=0 lets the scheduler place everything. Besides the rates it prints each server's
# CPU time per operation (per 64 KiB read for bulk; from /proc/PID/stat), which a noisy machine moves much
# less than the rates, and each server's peak resident memory over the run.
source "$(dirname "$0")/common.sh"
SIZE_MB="${SIZE_MB:-256}"; ROUNDS="${ROUNDS:-${REPS:-3}}"; LOAD_SECS="${LOAD_SECS:-5}"; LOAD_THREADS="${LOAD_THREADS:-4}"; PIN="${PIN:-1}"
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

# bulk PORT -> MiB/s of one diodcat run (output checked by size)
bulk() {
  local t0 t1 n
  t0=$(now_ns)
  n=$("${CLI[@]}" diodcat -s "127.0.0.1:$1" -a "$EXP" -m 65536 big.bin | wc -c)
  t1=$(now_ns)
  [ "$n" -eq "$((SIZE_MB * 1024 * 1024))" ] || { echo "diodcat on port $1 returned $n bytes" >&2; echo 0; return; }
  python3 -c "print(f'{$SIZE_MB/(($t1-$t0)/1e9):.0f}')"
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
  at_whole_second
  "${CLI[@]}" diodload -s "127.0.0.1:$1" -r "$LOAD_SECS" -n "$LOAD_THREADS" "${@:2}" 2>&1 | sed -n 's/.*diodload: \([0-9]*\) ops\/s.*/\1/p' | tail -1
}

echo "export: $EXP (big.bin ${SIZE_MB} MiB); pinning: ${PIN}; rounds: ${ROUNDS}; ninescope: $NINESCOPE"
# stats VALUES… -> "best median" of the values
stats() { python3 -c "import statistics, sys; v = [float(x) for x in sys.argv[1:]] or [0]; print(f'{max(v):.0f} {statistics.median(v):.0f}')" "$@"; }
declare -A ALL TICKS
for _ in $(seq 1 "$ROUNDS"); do
  for test in bulk load get; do
    for side in D O; do
      if [ "$side" = D ]; then pid=$DIOD_PID; port=$DPORT; else pid=$OURS_PID; port=$OPORT; fi
      case $test in
        bulk) measure R "$pid" bulk "$port" ;;
        load) measure R "$pid" load "$port" ;;
        get)  measure R "$pid" load "$port" -g ;;
      esac
      ALL[$side$test]+=" ${R:-0}"; TICKS[$side$test]=$(( ${TICKS[$side$test]:-0} + R_CPU ))
    done
  done
done
read -r D_BULK _ <<< "$(stats ${ALL[Dbulk]})"; read -r O_BULK _ <<< "$(stats ${ALL[Obulk]})"
read -r _ D_LOAD <<< "$(stats ${ALL[Dload]})"; read -r _ O_LOAD <<< "$(stats ${ALL[Oload]})"
read -r _ D_GET <<< "$(stats ${ALL[Dget]})"; read -r _ O_GET <<< "$(stats ${ALL[Oget]})"
D_BULK_CPU=${TICKS[Dbulk]}; O_BULK_CPU=${TICKS[Obulk]}
# CPU per operation over all rounds: ticks / (sum of each round's ops/s × its seconds)
sum_ops() { python3 -c "import sys; print(int(sum(float(x) for x in sys.argv[1:]) * $LOAD_SECS))" "$@"; }
D_LOAD_OPS=$(sum_ops ${ALL[Dload]}); O_LOAD_OPS=$(sum_ops ${ALL[Oload]})
D_GET_OPS=$(sum_ops ${ALL[Dget]}); O_GET_OPS=$(sum_ops ${ALL[Oget]})
READS=$(( ROUNDS * SIZE_MB * 16 ))   # 64 KiB reads over all bulk runs
printf "%-40s %12s %12s %8s   %s\n" "(bulk: best of $ROUNDS; ops: median of $ROUNDS)" "diod" "ninescope" "ratio" "server CPU µs/op: diod ninescope"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodcat bulk read, MiB/s (-m 65536)" "$D_BULK" "$O_BULK" "$(ratio "$O_BULK" "$D_BULK")" \
  "$(per_op "$D_BULK_CPU" "$READS")" "$(per_op "$O_BULK_CPU" "$READS")"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodload zero→null, ops/s (-n $LOAD_THREADS)" "${D_LOAD:-0}" "${O_LOAD:-0}" "$(ratio "${O_LOAD:-0}" "${D_LOAD:-0}")" \
  "$(per_op "${TICKS[Dload]}" "$D_LOAD_OPS")" "$(per_op "${TICKS[Oload]}" "$O_LOAD_OPS")"
printf "%-40s %12s %12s %7sx   %8s %8s\n" "diodload -g getattr, ops/s (-n $LOAD_THREADS)" "${D_GET:-0}" "${O_GET:-0}" "$(ratio "${O_GET:-0}" "${D_GET:-0}")" \
  "$(per_op "${TICKS[Dget]}" "$D_GET_OPS")" "$(per_op "${TICKS[Oget]}" "$O_GET_OPS")"
echo "per round (diod | ninescope):"
for test in bulk load get; do printf "  %-5s %s | %s\n" "$test" "${ALL[D$test]}" "${ALL[O$test]}"; done
# Peak resident memory of each server over the whole run (VmHWM: every round above), what it holds now, and
# of that the anonymous part (heap and stacks, without the program's own mapped code and data).
mem() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
echo "server memory, MiB (diod / ninescope): peak $(mem "$DIOD_PID" VmHWM) / $(mem "$OURS_PID" VmHWM); now $(mem "$DIOD_PID" VmRSS) / $(mem "$OURS_PID" VmRSS), anonymous $(mem "$DIOD_PID" RssAnon) / $(mem "$OURS_PID" RssAnon)"
