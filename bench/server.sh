#!/usr/bin/env bash
# Hosted server throughput: `ninescope serve --driver local:DIR` versus diod on the same export, in one
# run. Prints diodcat bulk read MiB/s (a 256 MiB file, -m 65536, best of $REPS) and diodload operation
# rates (-r 5 -n 4, copy ctl:zero → ctl:null, and -g getattr), with ratios ours/diod.
# Target (issue 4): ≥ 1.0× diod. Not a test.
#   SIZE_MB=256 REPS=3 LOAD_SECS=5 LOAD_THREADS=4 PIN=1 bash bench/server.sh
# PIN=1 (default) runs both servers on CPU 1 and the clients on CPU 0 (taskset), so each server gets the
# same single core; PIN=0 lets the scheduler place everything.
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
# load PORT [-g] -> ops/s
load() {
  "${CLI[@]}" diodload -s "127.0.0.1:$1" -r "$LOAD_SECS" -n "$LOAD_THREADS" "${@:2}" 2>&1 | sed -n 's/.*diodload: \([0-9]*\) ops\/s.*/\1/p' | tail -1
}

echo "export: $EXP (big.bin ${SIZE_MB} MiB); pinning: ${PIN}; ninescope: $NINESCOPE"
D_BULK=$(bulk "$DPORT");  O_BULK=$(bulk "$OPORT")
D_LOAD=$(load "$DPORT");  O_LOAD=$(load "$OPORT")
D_GET=$(load "$DPORT" -g); O_GET=$(load "$OPORT" -g)
printf "%-40s %12s %12s %8s\n" "" "diod" "ninescope" "ratio"
printf "%-40s %12s %12s %7sx\n" "diodcat bulk read, MiB/s (-m 65536)" "$D_BULK" "$O_BULK" "$(ratio "$O_BULK" "$D_BULK")"
printf "%-40s %12s %12s %7sx\n" "diodload zero→null, ops/s (-n $LOAD_THREADS)" "${D_LOAD:-0}" "${O_LOAD:-0}" "$(ratio "${O_LOAD:-0}" "${D_LOAD:-0}")"
printf "%-40s %12s %12s %7sx\n" "diodload -g getattr, ops/s (-n $LOAD_THREADS)" "${D_GET:-0}" "${O_GET:-0}" "$(ratio "${O_GET:-0}" "${D_GET:-0}")"
