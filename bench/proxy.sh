#!/usr/bin/env bash
# Proxy overhead (issue 3), in one run against one diod export:
#   direct diod | tuned socat relay | ninescope proxy --headless | ninescope proxy --headless --capture
#   | the same with --capture /dev/null (every record built, none stored: what the capture's disk writes
#   cost is the difference between the last two)
#   | socat+dumpcap: a second socat relay whose client side Wireshark's capture engine records on the
#   loopback interface (`dumpcap -i lo`, to bench/out): the usual way to record a relayed stream, for
#   comparison with the proxy's --capture (left out when dumpcap is missing or may not capture)
# (ninescope's trace goes to /dev/null; the capture to bench/out). For each:
#   bulk read MiB/s   diodcat -m 65536 of a 256 MiB file (diod caps msize at 64 KiB), best of $RUNS
#                     reads, the targets interleaved as the op-rate rounds are
#                     (also printed: the share of the machine's CPU left idle during each read)
#   small ops/s       diodload -g -r 5 -n 4 (Tgetattr streams on 4 connections), as diodload reports it,
#                     started at a whole second of the clock (see at_whole_second in common.sh);
#                     the median of $ROUNDS rounds, each round running every target once, in an order
#                     that changes from round to round (see round_order); also the median of the rounds'
#                     own ratios to socat (each round's targets ran within seconds of each other)
#   1-conn ops/s      the same with -n 1: one connection, one request at a time (a kernel mount's
#                     pattern); measured in the same rounds
#   latency p50/p99   `ninescope bench-ping` (Tgetattr ping-pong, one request at a time, 20000 round trips
#                     split over $ROUNDS interleaved rounds; the medians of the rounds' p50 and p99)
#   trace CPU/msg     `ninescope bench-trace` on a capture of a 2 s diodload sample: the CPU time the trace
#                     thread spends per message (tracking, the line, the pcapng records), best of 5
#   peak memory       after everything above, one more 256 MiB read and one more diodload -g -n 4 run
#                     through each relay, its resident memory (the relay's process and its children: socat
#                     forks one per connection) sampled every 20 ms, the largest total; and for the
#                     proxies their VmHWM, the peak over the whole run
# (On a small shared VM one round of either swings by ±15% from one run to the next; interleaved rounds
# and medians keep drift and bursts of noise from landing on one target.)
# and the ratios to socat. Targets: >= 0.95x socat throughput and op rate with decoding and capture on;
# p50 latency no worse than socat's. The last block judges each target on proxy+capture: met, not met, or
# undecided when the 95% interval of its per-round figure spans the target.
#
#   bash bench/proxy.sh                                   # builds the release binary if needed
#   NINESCOPE=path/to/release/ninescope bash bench/proxy.sh
#   RUNS=6 PINGS=50000 ROUNDS=12 bash bench/proxy.sh     # RUNS, ROUNDS: multiples of the number of targets
#                                                         # (6; 10 for 5) balance the order fully
#   TARGETS="socat proxy+capture" PHASES=ops ROUNDS=40 bash bench/proxy.sh
#                       # a focused A/B: only these targets (socat is always one) and only these parts
#                       # (PHASES, any of: bulk ops ops1 ping trace mem); many rounds narrow the interval below
#   TARGETS="proxy+capture proxy+cap:quiet" PHASES="bulk ops" bash bench/proxy.sh
#                       # proxy+cap:quiet (`--quiet --capture`: recording without decoding) runs only when named,
#                       # as does proxy+cap:data64 (`--capture-data 64`: reads' and writes' data cut to 64 bytes)
#   NINESCOPE_B=/other/build/ninescope TARGETS="proxy+capture proxy+capture:b" PHASES=ops ROUNDS=30 bash bench/proxy.sh
#                       # two builds side by side: proxy+capture:b is NINESCOPE_B's proxy with capture, and
#                       # the paired ratio b / proxy+capture is printed with its interval (runs only when named)
# Each ratio to socat is also given as the median of the rounds' own ratios with a 95% bootstrap interval
# (the rounds resampled 4,000 times): on this VM one round's ratio moves by ±10% (the host's speed drifts
# within seconds), so a run of 10 rounds cannot tell 0.93× from 0.98×; the interval says what a run can.
# Likewise p50 − socat's: the median of the rounds' own differences with its interval (one round's p50
# moves by ±30 µs as the host's load changes, and socat's with it).
USER_BIN="${NINESCOPE:-}"
# A part misspelt would otherwise be found only after the release build and the setup, as a table of "-".
for part in ${PHASES:-}; do
  case " bulk ops ops1 ping trace mem " in *" $part "*) ;; *)
    echo "bench/proxy.sh: unknown part $part in PHASES (bulk ops ops1 ping trace mem)" >&2; exit 1;; esac
done
for t in ${TARGETS:-}; do
  case " direct socat proxy proxy+capture proxy+cap:null socat+dumpcap proxy+cap:quiet proxy+cap:data64 proxy+capture:b " in
    *" $t "*) ;;
    *) echo "bench/proxy.sh: unknown target $t in TARGETS (direct socat proxy proxy+capture proxy+cap:null" \
            "socat+dumpcap proxy+cap:quiet proxy+cap:data64 proxy+capture:b)" >&2; exit 1;;
  esac
done
source "$(dirname "$0")/common.sh"
[ -n "$USER_BIN" ] || ensure_release
RUNS="${RUNS:-6}"
PINGS="${PINGS:-20000}"
LOAD_SECS="${LOAD_SECS:-5}"
ROUNDS="${ROUNDS:-6}"
for tool in diod diodcat diodload socat; do
  command -v "$tool" >/dev/null || { echo "bench/proxy.sh: $tool is not installed" >&2; exit 1; }
done

EXPORT="$OUT/proxy-export"
BIG="$EXPORT/big256.bin"
mkdir -p "$EXPORT"
if [ ! -s "$BIG" ] || [ "$(stat -c %s "$BIG")" -ne 268435456 ]; then
  head -c 268435456 /dev/urandom > "$BIG"
fi
CAP="$OUT/proxy-bench.pcapng"
PIDS=()
DUMPCAP_CAP="$OUT/proxy-bench-dumpcap.pcapng"
QUIET_CAP="$OUT/proxy-bench-quiet.pcapng"
B_CAP="$OUT/proxy-bench-b.pcapng"
DATA_CAP="$OUT/proxy-bench-data.pcapng"
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -f "$CAP" "$DUMPCAP_CAP" "$QUIET_CAP" "$B_CAP" "$DATA_CAP"; }
trap cleanup EXIT

# The machine may be busy with other work: when allowed, every process of the benchmark runs at a higher
# priority (NICE="" to turn that off), so that the figures compare the relays rather than the scheduler.
NICE="${NICE-nice -n -15}"
$NICE true 2>/dev/null || NICE=""
D=$(free_port); $NICE diod -f -n -c /dev/null -L "$OUT/diod-$D.log" -l "127.0.0.1:$D" -e "$EXPORT" -e ctl >/dev/null 2>&1 &
DIOD_PID=$!; PIDS+=("$DIOD_PID"); wait_port "$D"
S=$(free_port)
$NICE socat -b 131072 "TCP-LISTEN:$S,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$D,nodelay" &
SOCAT_PID=$!; PIDS+=("$SOCAT_PID")
wait_port "$S"
P=$(free_port)
$NICE "$NINESCOPE" proxy --listen "127.0.0.1:$P" --upstream "127.0.0.1:$D" --headless >/dev/null 2>"$OUT/proxy-bench.log" &
PROXY_PID=$!; PIDS+=("$PROXY_PID")
C=$(free_port)
$NICE "$NINESCOPE" proxy --listen "127.0.0.1:$C" --upstream "127.0.0.1:$D" --headless --capture "$CAP" >/dev/null 2>"$OUT/proxy-bench-cap.log" &
CAPTURE_PID=$!; PIDS+=("$CAPTURE_PID")
N0=$(free_port)
$NICE "$NINESCOPE" proxy --listen "127.0.0.1:$N0" --upstream "127.0.0.1:$D" --headless --capture /dev/null >/dev/null 2>"$OUT/proxy-bench-null.log" &
NULLCAP_PID=$!; PIDS+=("$NULLCAP_PID")
PROXIES=("$PROXY_PID" "$CAPTURE_PID" "$NULLCAP_PID")
wait_port "$P"; wait_port "$C"; wait_port "$N0"   # (each proxy logs these probes as short connections)
# start_named_proxy TARGET BIN LOG ARGS... -> only when TARGETS names TARGET: BIN's proxy with ARGS on a
# free port, in front of diod, its stderr in LOG; sets NAMED_PORT and NAMED_PID ("" when not named).
start_named_proxy() {
  local target=$1 bin=$2 log=$3; shift 3
  NAMED_PORT=""; NAMED_PID=""
  [[ " ${TARGETS:-} " == *" $target "* ]] || return 0
  NAMED_PORT=$(free_port)
  $NICE "$bin" proxy --listen "127.0.0.1:$NAMED_PORT" --upstream "127.0.0.1:$D" "$@" >/dev/null 2>"$log" &
  NAMED_PID=$!; PIDS+=("$NAMED_PID"); PROXIES+=("$NAMED_PID")
  wait_port "$NAMED_PORT"
}
# The proxy recording without decoding (`--quiet --capture`).
start_named_proxy proxy+cap:quiet "$NINESCOPE" "$OUT/proxy-bench-quiet.log" --quiet --capture "$QUIET_CAP"
Q=$NAMED_PORT; QUIET_PID=$NAMED_PID
# The proxy with a capture that keeps 64 bytes of each read's and write's data (`--capture-data 64`).
start_named_proxy proxy+cap:data64 "$NINESCOPE" "$OUT/proxy-bench-data.log" --headless --capture "$DATA_CAP" --capture-data 64
DC=$NAMED_PORT; DATA_PID=$NAMED_PID
# Another build's proxy with capture (NINESCOPE_B), to compare two builds.
if [[ " ${TARGETS:-} " == *" proxy+capture:b "* && ! -x "${NINESCOPE_B:-}" ]]; then
  echo "bench/proxy.sh: proxy+capture:b needs NINESCOPE_B=path/to/ninescope" >&2; exit 1
fi
start_named_proxy proxy+capture:b "${NINESCOPE_B:-}" "$OUT/proxy-bench-b.log" --headless --capture "$B_CAP"
PB=$NAMED_PORT; B_PID=$NAMED_PID
# socat with dumpcap recording its client side (the 9P stream exactly as the proxy's capture holds it,
# but as the kernel's loopback packets: segments, ACKs and all), written through the page cache as
# dumpcap writes; its CPU counts with the relay's.
SD=""; SOCAT2_PID=""; DUMPCAP_PID=""
if command -v dumpcap >/dev/null; then
  SD=$(free_port)
  $NICE socat -b 131072 "TCP-LISTEN:$SD,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$D,nodelay" &
  SOCAT2_PID=$!; PIDS+=("$SOCAT2_PID")
  $NICE dumpcap -q -i lo -f "tcp port $SD" -w "$DUMPCAP_CAP" >/dev/null 2>"$OUT/proxy-bench-dumpcap.log" &
  DUMPCAP_PID=$!; PIDS+=("$DUMPCAP_PID")
  wait_port "$SD"
  # Capturing once its file has the section header; gone when it may not capture here.
  for _ in $(seq 1 100); do
    { [ -s "$DUMPCAP_CAP" ] || ! kill -0 "$DUMPCAP_PID" 2>/dev/null; } && break
    sleep 0.05
  done
  if ! kill -0 "$DUMPCAP_PID" 2>/dev/null || [ ! -s "$DUMPCAP_CAP" ]; then
    echo "bench/proxy.sh: dumpcap cannot capture on lo here ($(head -c 200 "$OUT/proxy-bench-dumpcap.log" | tr '\n' ' ')); no socat+dumpcap target" >&2
    kill "$SOCAT2_PID" "$DUMPCAP_PID" 2>/dev/null || true
    SD=""; SOCAT2_PID=""; DUMPCAP_PID=""
  else
    PROXIES+=("$DUMPCAP_PID")
  fi
fi

# cpu_ms PID… -> CPU time (user + system, reaped children included) of the processes together, in ms
cpu_ms() {
  local total=0 p t
  for p in "$@"; do
    t=$(awk '{print ($14+$15+$16+$17) * 10}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}
# host_ticks -> "idle total": the machine's idle (and iowait) clock ticks and all its ticks so far
host_ticks() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# bulk PORT "RELAY_PIDS" -> "MiB/s relay-CPU-ms idle-%" of one read of the 256 MiB file; idle-%: how much of
# the machine's CPU time went unused during the read (a bulk read through a relay is a chain of wake-ups:
# when much is idle, the figure measures wake-up latency, not CPU cost)
bulk() {
  local t0 t1 c0 c1 i0 a0 i1 a1
  # shellcheck disable=SC2086  # word splitting intended: one argument per process
  c0=$(cpu_ms $2); read -r i0 a0 <<< "$(host_ticks)"; t0=$(now_ns)
  $NICE diodcat -s "127.0.0.1:$1" -a "$EXPORT" -m 65536 big256.bin > /dev/null
  # shellcheck disable=SC2086
  t1=$(now_ns); read -r i1 a1 <<< "$(host_ticks)"; sleep 0.1; c1=$(cpu_ms $2)
  echo "$(python3 -c "print(f'{256/(($t1-$t0)/1e9):.0f}')") $((c1 - c0)) $(( a1 > a0 ? 100 * (i1 - i0) / (a1 - a0) : 0 ))"
}
# ops PORT [CONNECTIONS] -> ops/s as diodload reports it (4 connections unless told)
ops() { at_whole_second; $NICE diodload -s "127.0.0.1:$1" -g -r "$LOAD_SECS" -n "${2:-4}" 2>&1 | sed -n 's/.*: \([0-9][0-9]*\) ops\/s.*/\1/p' | head -1; }
# ping PORT -> "p50 p99" in µs
ping() {
  $NICE "$NINESCOPE" bench-ping "127.0.0.1:$1" --aname "$EXPORT" --count "$(( (PINGS + ROUNDS - 1) / ROUNDS ))" \
    | sed -n 's/.*p50_us=\([0-9.]*\) .*p99_us=\([0-9.]*\) .*/\1 \2/p'
}

declare -A BULK CPU OPS OPS1 P50 P99
NAMES=(direct socat proxy proxy+capture proxy+cap:null)
[ -n "$SD" ] && NAMES+=(socat+dumpcap)
[ -n "$Q" ] && NAMES+=(proxy+cap:quiet)
[ -n "$DC" ] && NAMES+=(proxy+cap:data64)
[ -n "$PB" ] && NAMES+=(proxy+capture:b)
if [ -n "${TARGETS:-}" ]; then
  picked=(socat)
  for n in "${NAMES[@]}"; do
    [ "$n" != socat ] && [[ " $TARGETS " == *" $n "* ]] && picked+=("$n")
  done
  for t in $TARGETS; do [[ " ${NAMES[*]} " == *" $t "* ]] || { echo "bench/proxy.sh: unknown target $t (${NAMES[*]})" >&2; exit 1; }; done
  NAMES=("${picked[@]}")
fi
PHASES="${PHASES:-bulk ops ops1 ping trace mem}"
phase() { [[ " $PHASES " == *" $1 "* ]]; }
declare -A PORT=([direct]=$D [socat]=$S [proxy]=$P [proxy+capture]=$C [proxy+cap:null]=$N0 [socat+dumpcap]=$SD
                 [proxy+cap:quiet]=$Q [proxy+capture:b]=$PB [proxy+cap:data64]=$DC)
declare -A RELAY=([direct]="" [socat]=$SOCAT_PID [proxy]=$PROXY_PID [proxy+capture]=$CAPTURE_PID [proxy+cap:null]=$NULLCAP_PID
                  [socat+dumpcap]="$SOCAT2_PID $DUMPCAP_PID" [proxy+cap:quiet]=$QUIET_PID [proxy+capture:b]=$B_PID
                  [proxy+cap:data64]=$DATA_PID)
# median VALUES… -> the median (the mean of the middle two for an even count)
median() { python3 -c "import statistics, sys; m = statistics.median(float(v) for v in sys.argv[1:]); print(int(m) if m == int(m) else round(m, 1))" "$@"; }
# median_or_dash VALUES… -> the median, or "-" without values (a part left out of PHASES)
median_or_dash() { if [ $# -gt 0 ]; then median "$@"; else echo -; fi; }
# per_round PHASE TITLE ARRAY -> each target's figures in ARRAY (an associative array's name), when PHASE ran
per_round() {
  phase "$1" || return 0
  local -n figures=$3
  echo "$2"
  for n in "${NAMES[@]}"; do printf "  %-17s%s\n" "$n" "${figures[$n]:-}"; done
}
declare -A OPS_ALL OPS1_ALL P50_ALL P99_ALL LAG_ALL
# settle PID… -> waits (up to about a minute) until none of the processes uses CPU for 0.1 s: a proxy's
# trace thread runs below the relay's priority and may still be catching up on a load's events, which
# would otherwise land in the next target's figures.
settle() {
  for _ in $(seq 1 200); do
    local busy=0 a b
    for p in "$@"; do a=$(cpu_ms "$p"); sleep 0.1; b=$(cpu_ms "$p"); [ "$b" -gt "$a" ] && busy=1; done
    [ "$busy" = 0 ] && return 0
    sleep 0.1
  done
}
# round_order R -> the targets in the order of round R: a Williams design (the row 0 1 K-1 2 K-2 …, shifted
# by one each round; for an odd number K of targets also the K rows reversed), so that over every K rounds
# (2K when K is odd: 10 for five targets; 6 rounds for six) each target runs first equally often and follows each other
# target equally often. A target run right after a proxy target was measured ~15% slower than the same
# binary run after socat (two identical proxies, fixed order: 0.82× against 0.69× socat; balanced: 0.85×
# and 0.86×; that was before `settle`), so a fixed order would load one target with that.
round_order() {
  local k=${#NAMES[@]} lo=1 hi i r s period
  local row=(0) out=()
  hi=$((k - 1))
  while [ ${#row[@]} -lt "$k" ]; do
    row+=("$lo"); lo=$((lo + 1))
    if [ ${#row[@]} -lt "$k" ]; then row+=("$hi"); hi=$((hi - 1)); fi
  done
  period=$k; [ $((k % 2)) = 1 ] && period=$((2 * k))
  r=$(( ($1 - 1) % period )); s=$(( r % k ))
  for i in "${row[@]}"; do out+=($(( (i + s) % k ))); done
  if [ "$r" -ge "$k" ]; then
    for (( i = k - 1; i >= 0; i-- )); do printf '%s\n' "${NAMES[${out[$i]}]}"; done
  else
    for i in "${out[@]}"; do printf '%s\n' "${NAMES[$i]}"; done
  fi
}
# Interleave the targets (rounds in round_order) so drift (CPU frequency, page cache, the host's other
# work) hits all alike; each target's figure is its best read, the relay CPU its least per read.
declare -A BULK_ALL IDLE_ALL
phase bulk || RUNS=0
for r in $(seq 1 "$RUNS"); do
  for n in $(round_order "$r"); do
    settle "${PROXIES[@]}"
    read -r rate cpu idle <<< "$(bulk "${PORT[$n]}" "${RELAY[$n]}")"
    BULK_ALL[$n]+=" $rate"
    IDLE_ALL[$n]+=" $idle"
    if [ -z "${BULK[$n]:-}" ] || [ "$rate" -gt "${BULK[$n]}" ]; then BULK[$n]=$rate; fi
    if [ -z "${CPU[$n]:-}" ] || [ "$cpu" -lt "${CPU[$n]}" ]; then CPU[$n]=$cpu; fi
  done
done
OPS_ROUNDS=$ROUNDS; phase ops || phase ops1 || OPS_ROUNDS=0
for r in $(seq 1 "$OPS_ROUNDS"); do
  phase ops && for n in $(round_order "$r"); do
    settle "${PROXIES[@]}"
    OPS_ALL[$n]+=" $(ops "${PORT[$n]}")"
    # How long the proxy's trace (and capture) went on after the load ended: the work it deferred.
    if [ -n "${RELAY[$n]}" ] && [ "$n" != socat ]; then
      # shellcheck disable=SC2086  # word splitting intended: one argument per process
      t0=$(now_ns); settle ${RELAY[$n]}; t1=$(now_ns)
      LAG_ALL[$n]+=" $(python3 -c "print(f'{($t1-$t0)/1e9:.1f}')")"
    fi
  done
  phase ops1 && for n in $(round_order "$r"); do
    settle "${PROXIES[@]}"
    OPS1_ALL[$n]+=" $(ops "${PORT[$n]}" 1)"
  done
done
settle "${PROXIES[@]}"
PING_ROUNDS=$ROUNDS; phase ping || PING_ROUNDS=0
for r in $(seq 1 "$PING_ROUNDS"); do
  for n in $(round_order "$r"); do read -r p50 p99 <<< "$(ping "${PORT[$n]}")"; P50_ALL[$n]+=" $p50"; P99_ALL[$n]+=" $p99"; done
done
# The work the proxy's trace thread does per message, as CPU time rather than a rate: a 2 s diodload
# sample captured through a proxy of its own, replayed by `ninescope bench-trace` (tracking, the trace
# line, the pcapng records; CPU time of its one thread, best of 5), so it barely moves with machine noise.
TRACE_COST="-"
if phase trace; then
  SAMPLE="$OUT/proxy-trace-sample.pcapng"
  T=$(free_port)
  "$NINESCOPE" proxy --listen "127.0.0.1:$T" --upstream "127.0.0.1:$D" --headless --capture "$SAMPLE" >/dev/null 2>&1 &
  SAMPLE_PID=$!; PIDS+=("$SAMPLE_PID"); wait_port "$T"
  diodload -s "127.0.0.1:$T" -g -r 2 -n 4 >/dev/null 2>&1
  kill -INT "$SAMPLE_PID"; wait "$SAMPLE_PID" 2>/dev/null || true
  TRACE_COST=$("$NINESCOPE" bench-trace "$SAMPLE" --reps 5 2>&1 || true)
  rm -f "$SAMPLE"
fi
# Peak memory of each relay under both loads, sampled while they run (see the header); not timed.
# tree_rss_kb PID… -> resident KiB of the processes and their children, now
tree_rss_kb() {
  local total=0 p c v
  for p in "$@"; do
    for c in $p $(pgrep -P "$p"); do
      v=$(awk '/^VmRSS/ {print $2}' "/proc/$c/status" 2>/dev/null); total=$((total + ${v:-0}))
    done
  done
  echo "$total"
}
# peak_rss_kb "PIDS" COMMAND… -> the largest tree_rss_kb of PIDS, sampled every 20 ms while COMMAND runs
peak_rss_kb() {
  local pids=$1 peak=0 now cmd; shift
  "$@" >/dev/null 2>&1 & cmd=$!
  while kill -0 "$cmd" 2>/dev/null; do
    # shellcheck disable=SC2086  # word splitting intended: one argument per process
    now=$(tree_rss_kb $pids); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.02
  done
  wait "$cmd" || true
  echo "$peak"
}
declare -A MEM_BULK MEM_OPS
if phase mem; then
  for n in "${NAMES[@]}"; do
    [ -n "${RELAY[$n]}" ] || continue
    settle "${PROXIES[@]}"
    MEM_BULK[$n]=$(peak_rss_kb "${RELAY[$n]}" diodcat -s "127.0.0.1:${PORT[$n]}" -a "$EXPORT" -m 65536 big256.bin)
    MEM_OPS[$n]=$(peak_rss_kb "${RELAY[$n]}" diodload -s "127.0.0.1:${PORT[$n]}" -g -r 2 -n 4)
  done
fi
# (A part left out of PHASES shows as "-".)
for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2086  # word splitting intended: one argument per round
  OPS[$n]=$(median_or_dash ${OPS_ALL[$n]:-}); OPS1[$n]=$(median_or_dash ${OPS1_ALL[$n]:-})
  P50[$n]=$(median_or_dash ${P50_ALL[$n]:-}); P99[$n]=$(median_or_dash ${P99_ALL[$n]:-})
  BULK[$n]=${BULK[$n]:--}; CPU[$n]=${CPU[$n]:--}
done
CAP_BYTES=$(stat -c %s "$CAP" 2>/dev/null || echo 0)

echo "ninescope proxy benchmark — $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), ${NICE:-no nice}, $(date -u +%Y-%m-%dT%H:%MZ)"
parts=()
phase bulk && parts+=("bulk: diodcat -m 65536 of 256 MiB, best of $RUNS (relay CPU: least per read)")
{ phase ops || phase ops1; } && parts+=("ops: diodload -g -r $LOAD_SECS -n 4 (1-conn: -n 1), median of $ROUNDS rounds")
phase ping && parts+=("latency: $PINGS Tgetattr round trips in $ROUNDS rounds (medians)")
header=""
for part in "${parts[@]}"; do header+="${header:+; }$part"; done
echo "$header"
printf "%-16s %10s %7s %10s %10s %7s %12s %7s %9s %9s %12s\n" "" "bulk MiB/s" "×socat" "relay CPU" "ops/s" "×socat" "1-conn ops/s" "×socat" "p50 µs" "p99 µs" "p50 − socat"
for n in "${NAMES[@]}"; do
  dp50="-"; [ "${P50[$n]}" = - ] || dp50=$(python3 -c "print(f'{${P50[$n]} - ${P50[socat]}:+.1f}')")
  cpu="-"; [ "$n" = direct ] || [ "${CPU[$n]}" = - ] || cpu="${CPU[$n]} ms"
  printf "%-16s %10s %7s %10s %10s %7s %12s %7s %9s %9s %12s\n" "$n" "${BULK[$n]}" "$(ratio "${BULK[$n]}" "${BULK[socat]}")" "$cpu" \
    "${OPS[$n]}" "$(ratio "${OPS[$n]}" "${OPS[socat]}")" "${OPS1[$n]}" "$(ratio "${OPS1[$n]}" "${OPS1[socat]}")" \
    "${P50[$n]}" "${P99[$n]}" "$dp50"
done
echo "capture written by proxy+capture: $((CAP_BYTES / 1048576)) MiB"
[ -n "$DUMPCAP_PID" ] && echo "capture written by socat+dumpcap: $(( $(stat -c %s "$DUMPCAP_CAP" 2>/dev/null || echo 0) / 1048576 )) MiB"
[ -n "$DATA_PID" ] && echo "capture written by proxy+cap:data64: $(( $(stat -c %s "$DATA_CAP" 2>/dev/null || echo 0) / 1048576 )) MiB"
echo "trace thread CPU per message (bench-trace of a diodload -g -n 4 sample): $TRACE_COST"
if phase mem; then
  echo "peak resident memory, MiB (during one 256 MiB read; during a 2 s diodload -g -n 4; VmHWM over the whole run):"
  for n in "${NAMES[@]}"; do
    [ -n "${MEM_BULK[$n]:-}" ] || continue
    hwm=0
    for p in ${RELAY[$n]}; do v=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null); hwm=$((hwm + ${v:-0})); done
    [ "$n" = socat ] || [ "$n" = socat+dumpcap ] && hwm_text="-" || hwm_text=$(python3 -c "print(f'{$hwm/1024:.1f}')")
    printf "  %-17s%8s %8s %8s\n" "$n" "$(python3 -c "print(f'{${MEM_BULK[$n]}/1024:.1f}')")" \
      "$(python3 -c "print(f'{${MEM_OPS[$n]}/1024:.1f}')")" "$hwm_text"
  done
fi
per_round bulk "bulk MiB/s per round:" BULK_ALL
per_round bulk "machine CPU idle during each bulk read, %:" IDLE_ALL
per_round ops "ops/s per round:" OPS_ALL
per_round ops1 "1-conn ops/s per round:" OPS1_ALL
# round_stat ratio|diff A B -> the median over rounds of A's figure / B's figure (ratio) or A's − B's (diff,
# in µs, with how many rounds A was above B) in the same round, with a 95% bootstrap interval for it (the
# rounds resampled 4,000 times, a fixed seed: the same figures give the same interval); "-" without figures
round_stat() { # round_stat ratio|diff A B [LABEL TARGET HEADLINE]: with LABEL, the target's verdict line
  python3 - "$@" <<'PY'
import random, statistics, sys
mode = sys.argv[1]
a, b = (list(map(float, x.split())) for x in sys.argv[2:4])
verdict = sys.argv[4:7]
r = [x / y for x, y in zip(a, b) if y] if mode == "ratio" else [x - y for x, y in zip(a, b)]
if len(r) < (4 if verdict else 1):
    print(f"  {verdict[0]:<9} too few rounds ({len(r)}) to judge" if verdict else "-")
    sys.exit()
m = statistics.median(r)
if len(r) < 4:
    print(f"{m:.2f}×" if mode == "ratio" else f"{m:+.1f} µs")
    sys.exit()
rng = random.Random(1)
boots = sorted(statistics.median(rng.choices(r, k=len(r))) for _ in range(4000))
lo, hi = boots[100], boots[3899]
if verdict:
    label, target, headline = verdict[0], float(verdict[1]), verdict[2]
    if mode == "ratio":
        word = "met" if lo >= target else "not met" if hi < target else "undecided"
        print(f"  {label:<9} ≥ {target:.2f}×: {m:.2f}× [{lo:.2f}–{hi:.2f}] over {len(r)} rounds (headline {headline}×): {word}")
    else:
        word = "met" if hi <= target else "not met" if lo > target else "undecided"
        print(f"  {label:<9} ≤ socat's: {m:+.1f} µs [{lo:+.1f} to {hi:+.1f}] over {len(r)} rounds (headline {headline}): {word}")
elif mode == "ratio":
    print(f"{m:.2f}× [{lo:.2f}–{hi:.2f}]")
else:
    print(f"{m:+.1f} µs [{lo:+.1f} to {hi:+.1f}], above socat's in {sum(x > 0 for x in r)} of {len(r)} rounds")
PY
}
round_ratios() { round_stat ratio "$1" "$2"; }
echo "median of per-round ratios to socat [95% bootstrap interval] (bulk; ops; 1-conn ops):"
for n in "${NAMES[@]}"; do
  [ "$n" = socat ] && continue
  printf "  %-17s%s; %s; %s\n" "$n" "$(round_ratios "${BULK_ALL[$n]:-}" "${BULK_ALL[socat]:-}")" \
    "$(round_ratios "${OPS_ALL[$n]:-}" "${OPS_ALL[socat]:-}")" "$(round_ratios "${OPS1_ALL[$n]:-}" "${OPS1_ALL[socat]:-}")"
done
if [[ " ${NAMES[*]} " == *" proxy+capture:b "* && " ${NAMES[*]} " == *" proxy+capture "* ]]; then
  echo "the two builds paired, proxy+capture:b / proxy+capture per round (bulk; ops; 1-conn ops):"
  printf "  %-17s%s; %s; %s\n" "b / a" "$(round_ratios "${BULK_ALL[proxy+capture:b]:-}" "${BULK_ALL[proxy+capture]:-}")" \
    "$(round_ratios "${OPS_ALL[proxy+capture:b]:-}" "${OPS_ALL[proxy+capture]:-}")" \
    "$(round_ratios "${OPS1_ALL[proxy+capture:b]:-}" "${OPS1_ALL[proxy+capture]:-}")"
fi
if phase ops; then
  echo "seconds the proxy stayed busy after each load round ended (trace catching up; includes one 0.1 s probe):"
  for n in "${NAMES[@]}"; do if [ -n "${LAG_ALL[$n]:-}" ]; then printf "  %-17s%s\n" "$n" "${LAG_ALL[$n]}"; fi; done
fi
per_round ping "p50 µs per round:" P50_ALL
if phase ping; then
  echo "p50 − socat's in the same round, median over rounds [95% bootstrap interval]:"
  for n in "${NAMES[@]}"; do
    [ "$n" = socat ] || [ -z "${P50_ALL[$n]:-}" ] || printf "  %-17s%s\n" "$n" "$(round_stat diff "${P50_ALL[$n]}" "${P50_ALL[socat]}")"
  done
fi
# The targets, judged on proxy+capture (decoding and capture on) against socat in the same rounds: "met"
# when the 95% interval of the per-round figure lies wholly on the target's side, "not met" when wholly on
# the other, else "undecided" (the rounds' spread spans the target: more rounds, or a quieter machine).
# The headline figure (the table's: best read, median of rounds) is shown beside it.
if [[ " ${NAMES[*]} " == *" proxy+capture "* ]]; then
  echo "targets, proxy+capture against socat (95% interval of the per-round figure; met / not met / undecided):"
  c=proxy+capture
  phase bulk && round_stat ratio "${BULK_ALL[$c]:-}" "${BULK_ALL[socat]:-}" bulk 0.95 "$(ratio "${BULK[$c]}" "${BULK[socat]}")"
  phase ops && round_stat ratio "${OPS_ALL[$c]:-}" "${OPS_ALL[socat]:-}" "op rate" 0.95 "$(ratio "${OPS[$c]}" "${OPS[socat]}")"
  if phase ping && [ "${P50[$c]}" != - ]; then
    round_stat diff "${P50_ALL[$c]:-}" "${P50_ALL[socat]:-}" p50 0 "$(python3 -c "print(f'{${P50[$c]} - ${P50[socat]}:+.1f} µs')")"
  fi
fi
