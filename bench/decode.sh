#!/usr/bin/env bash
# Decode throughput: ninescope decode vs tshark on the same large capture (≥ 100k 9P messages made by
# diodload against diod, captured with tcpdump). Prints messages/s for each and the ratio.
# Target (issue 2): ninescope ≥ 20× tshark.
source "$(dirname "$0")/common.sh"
ensure_release
CAP="$OUT/diodload.pcap"
PORT=$(free_port)
if [ ! -s "$CAP" ]; then
  EXP=$(mktemp -d); start_diod "$PORT" "$EXP"
  tcpdump -i lo -U -s 0 -w "$CAP" tcp port "$PORT" 2>/dev/null & TCPDUMP=$!
  sleep 1
  diodload -s "127.0.0.1:$PORT" -r 8 -n 4 -g >/dev/null
  sleep 0.5; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null || true
  kill $DIOD_PID; wait $DIOD_PID 2>/dev/null || true
  echo "$PORT" > "$CAP.port"
fi
PORT=$(cat "$CAP.port")
echo "capture: $CAP ($(du -h "$CAP" | cut -f1))"

# Each tool runs RUNS times (3 by default), alternating, and the fastest run of each is compared, as
# is the median: this VM's speed drifts by tens of percent from minute to minute, and a single run of
# each catches the two in different phases. Timed runs write their output to /dev/null (tshark's one
# field per message, ours a full line per message); the counts come from an untimed run of each. The
# last row times our text output piped into `wc -l` instead (the pipe and the counting process share
# this VM's two CPUs with the decoder), as this script measured before.
RUNS=${RUNS:-3}
TS=(); US=(); USJ=(); USW=()
for i in $(seq "$RUNS"); do
  t0=$(now_ns); tshark -n -r "$CAP" -d tcp.port==$PORT,9p -T fields -e 9p.msgtype > /dev/null 2>&1; t1=$(now_ns)
  TS+=($((t1-t0)))
  t0=$(now_ns); "$NINESCOPE" decode "$CAP" --port "$PORT" > /dev/null; t1=$(now_ns)
  US+=($((t1-t0)))
  t0=$(now_ns); "$NINESCOPE" decode "$CAP" --port "$PORT" --json > /dev/null; t1=$(now_ns)
  USJ+=($((t1-t0)))
  t0=$(now_ns); LINES=$("$NINESCOPE" decode "$CAP" --port "$PORT" | wc -l); t1=$(now_ns)
  USW+=($((t1-t0)))
done
N_TS=$(tshark -n -r "$CAP" -d tcp.port==$PORT,9p -T fields -e 9p.msgtype 2>/dev/null | tr ',' '\n' | grep -c .)
# decode's text output also has a line per connection opened and closed: those are not messages.
N_US=$((LINES - $("$NINESCOPE" decode "$CAP" --port "$PORT" | grep -cE '^[^ ]+ c[0-9]+ [+-] ')))
python3 - "$N_TS" "$N_US" "${TS[*]}" "${US[*]}" "${USJ[*]}" "${USW[*]}" <<'PY'
import statistics, sys
n_ts, n_us = int(sys.argv[1]), int(sys.argv[2])
names = ["tshark -T fields", "ninescope decode", "ninescope decode --json", "ninescope decode | wc -l"]
runs = {name: [int(x) / 1e9 for x in arg.split()] for name, arg in zip(names, sys.argv[3:7])}
print(f"{len(runs[names[0]])} runs of each, alternating; best and median wall time")
base = None
for name, times in runs.items():
    n = n_ts if name.startswith("tshark") else n_us
    best, med = min(times), statistics.median(times)
    rates = (int(n / best), int(n / med))
    if base is None: base = rates
    extra = "" if name.startswith("tshark") else \
        f"  ratio best {rates[0] / base[0]:.2f}x  median {rates[1] / base[1]:.2f}x"
    print(f"{name:<26} {n:>8} msgs  best {best:6.2f} s {rates[0]:>9} msgs/s  median {med:6.2f} s {rates[1]:>9} msgs/s{extra}")
PY
