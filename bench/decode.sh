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

# This VM's speed drifts by tens of percent within seconds, so the two sides are compared over similar
# stretches of time: each of ROUNDS rounds (3 by default) runs tshark once (about 7-10 s) and then each
# ninescope form REPEAT times back to back (10 by default, a few seconds in all), and rates are messages
# over the summed wall time of a side. Per-round ratios and the ratio over all rounds are printed.
# Output goes to /dev/null (tshark's one field per message, ours a full line per message); counts come
# from untimed runs. The last row pipes our text into `wc -l` (the pipe and the counter share the two
# CPUs with the decoder).
ROUNDS=${ROUNDS:-3}; REPEAT=${REPEAT:-10}
declare -a TS US USJ USW
for r in $(seq "$ROUNDS"); do
  t0=$(now_ns); tshark -n -r "$CAP" -d tcp.port==$PORT,9p -T fields -e 9p.msgtype > /dev/null 2>&1; t1=$(now_ns)
  TS+=($((t1-t0)))
  t0=$(now_ns); for _ in $(seq "$REPEAT"); do "$NINESCOPE" decode "$CAP" --port "$PORT" > /dev/null; done; t1=$(now_ns)
  US+=($((t1-t0)))
  t0=$(now_ns); for _ in $(seq "$REPEAT"); do "$NINESCOPE" decode "$CAP" --port "$PORT" --json > /dev/null; done; t1=$(now_ns)
  USJ+=($((t1-t0)))
  t0=$(now_ns); for _ in $(seq "$REPEAT"); do "$NINESCOPE" decode "$CAP" --port "$PORT" | wc -l > /dev/null; done; t1=$(now_ns)
  USW+=($((t1-t0)))
done
N_TS=$(tshark -n -r "$CAP" -d tcp.port==$PORT,9p -T fields -e 9p.msgtype 2>/dev/null | tr ',' '\n' | grep -c .)
# decode's text output also has a line per connection opened and closed: those are not messages.
LINES=$("$NINESCOPE" decode "$CAP" --port "$PORT" | wc -l)
N_US=$((LINES - $("$NINESCOPE" decode "$CAP" --port "$PORT" | grep -cE '^[^ ]+ c[0-9]+ [+-] ')))
python3 - "$N_TS" "$N_US" "$REPEAT" "${TS[*]}" "${US[*]}" "${USJ[*]}" "${USW[*]}" <<'PY'
import sys
n_ts, n_us, repeat = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
names = ["tshark -T fields", "ninescope decode", "ninescope decode --json", "ninescope decode | wc -l"]
rounds = {name: [int(x) / 1e9 for x in arg.split()] for name, arg in zip(names, sys.argv[4:8])}
per_run = {name: (1 if name.startswith("tshark") else repeat) for name in names}
msgs = {name: (n_ts if name.startswith("tshark") else n_us) for name in names}
print(f"{len(rounds[names[0]])} rounds: tshark once, then each ninescope form {repeat} times; rate = messages / summed time")
base = sum(rounds[names[0]]); base_rate = n_ts * len(rounds[names[0]]) / base
for name in names:
    times = rounds[name]
    total = sum(times); runs = per_run[name] * len(times)
    rate = msgs[name] * runs / total
    line = f"{name:<26} {msgs[name]:>8} msgs  {runs:>3} runs  {total / runs:6.3f} s/run  {int(rate):>9} msgs/s"
    if not name.startswith("tshark"):
        per_round = [(msgs[name] * per_run[name] / t) / (n_ts / b) for t, b in zip(times, rounds[names[0]])]
        line += f"  ratio {rate / base_rate:.2f}x  (rounds: " + ", ".join(f"{x:.1f}x" for x in per_round) + ")"
    print(line)
PY
