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

t0=$(now_ns); N_TS=$(tshark -n -r "$CAP" -d tcp.port==$PORT,9p -T fields -e 9p.msgtype 2>/dev/null | tr ',' '\n' | grep -c .); t1=$(now_ns)
TS_S=$(python3 -c "print(($t1-$t0)/1e9)")
t0=$(now_ns); N_US=$("$NINESCOPE" decode "$CAP" --port "$PORT" | wc -l); t1=$(now_ns)
US_S=$(python3 -c "print(($t1-$t0)/1e9)")
t0=$(now_ns); "$NINESCOPE" decode "$CAP" --port "$PORT" --json > /dev/null; t1=$(now_ns)
USJ_S=$(python3 -c "print(($t1-$t0)/1e9)")
TS_RATE=$(python3 -c "print(int($N_TS/$TS_S))"); US_RATE=$(python3 -c "print(int($N_US/$US_S))"); USJ_RATE=$(python3 -c "print(int($N_US/$USJ_S))")
printf "%-28s %10s msgs %8.2f s %12s msgs/s\n" "tshark -T fields" "$N_TS" "$TS_S" "$TS_RATE"
printf "%-28s %10s msgs %8.2f s %12s msgs/s  ratio %sx\n" "ninescope decode" "$N_US" "$US_S" "$US_RATE" "$(ratio "$US_RATE" "$TS_RATE")"
printf "%-28s %10s msgs %8.2f s %12s msgs/s  ratio %sx\n" "ninescope decode --json" "$N_US" "$USJ_S" "$USJ_RATE" "$(ratio "$USJ_RATE" "$TS_RATE")"
