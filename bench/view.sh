#!/usr/bin/env bash
# The inspector on a big capture: `ninescope view` of a 1,000,000-message capture in a real terminal
# (tmux). Prints the time from start to the first full screen, the time until everything is loaded,
# the latency of page-down keys (from reading the key to the frame being presented) while scrolling
# through the list, of jumping to the end and back, of a filter, and the peak memory.
# Targets (issue 5): first screen under 1 s, no keypress slower than 50 ms.
# Usage: bench/view.sh [EXCHANGES]   (default 500000 exchanges = 1,000,008 messages)
source "$(dirname "$0")/common.sh"
ensure_release
command -v tmux >/dev/null || { echo "bench/view.sh needs tmux"; exit 1; }
EXCHANGES="${1:-500000}"
CAP="$OUT/view-$EXCHANGES.pcapng"
if [ ! -s "$CAP" ]; then
  echo "writing $CAP ($EXCHANGES synthetic exchanges)…"
  "$NINESCOPE" view --sample "$EXCHANGES" --write-capture "$CAP"
fi
MESSAGES=$("$NINESCOPE" decode "$CAP" | grep -c '^[0-9]' || true)
echo "capture: $CAP ($(du -h "$CAP" | cut -f1), $MESSAGES messages)"

LOG="$OUT/view-timing.log"; rm -f "$LOG"
SESSION="ninescope-bench-view-$$"
HOME_DIR=$(mktemp -d)
t0=$(now_ns)
tmux new-session -d -s "$SESSION" -x 120 -y 40 \
  "exec env TERM=xterm-256color HOME=$HOME_DIR NINESCOPE_UI_TIMING=$LOG $NINESCOPE view $CAP"
PID=$(tmux display -p -t "$SESSION" '#{pane_pid}')
cleanup() { tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$HOME_DIR"; }
trap cleanup EXIT
wait_for() { # wait_for PATTERN SECONDS
  for _ in $(seq 1 $(( $2 * 20 ))); do grep -q "$1" "$LOG" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$1'"; return 1
}
wait_for '^first-screen' 30
t1=$(now_ns)
wait_for '^loaded' 600
t2=$(now_ns)

# Page down 300 times (one key at a time, each measured), then end, top, a filter, and quit.
for _ in $(seq 1 300); do tmux send-keys -t "$SESSION" PageDown; sleep 0.03; done
sleep 0.3
tmux send-keys -t "$SESSION" G; sleep 0.5
tmux send-keys -t "$SESSION" g; sleep 0.5
tmux send-keys -t "$SESSION" / ; tmux send-keys -t "$SESSION" -l 'Rlerror'; tmux send-keys -t "$SESSION" Enter
sleep 3
PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
SCREEN=$(tmux capture-pane -p -t "$SESSION")
tmux send-keys -t "$SESSION" Q; sleep 0.5

python3 - "$LOG" "$t0" "$t1" "$t2" "$PEAK_KB" <<'EOF'
import sys
log, t0, t1, t2, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
first = loaded = None
keys = []
for line in open(log):
    parts = line.split()
    if parts[0] == "first-screen": first = float(parts[1])
    elif parts[0] == "loaded": loaded = float(parts[1])
    elif parts[0] == "key": keys.append((parts[1], float(parts[2])))
pg = sorted(ms for k, ms in keys if k.startswith("pgdn"))
other = [(k, ms) for k, ms in keys if not k.startswith("pgdn")]
def pct(v, p): return v[min(len(v) - 1, int(len(v) * p / 100))] if v else float("nan")
print(f"first full screen      {first:8.1f} ms in-process   ({(t1 - t0) / 1e6:8.1f} ms from launch, incl. tmux)")
print(f"everything loaded      {loaded:8.1f} ms in-process   ({(t2 - t0) / 1e6:8.1f} ms from launch)")
print(f"page-down keys         {len(pg)} measured: p50 {pct(pg, 50):.1f} ms, p99 {pct(pg, 99):.1f} ms, max {max(pg) if pg else float('nan'):.1f} ms")
for k, ms in other:
    print(f"key {k:<18} {ms:8.1f} ms")
print(f"peak memory (VmHWM)    {peak / 1024:8.1f} MiB")
slow = [ms for _, ms in keys if ms > 50]
print(f"targets: first screen < 1000 ms: {'yes' if first is not None and first < 1000 else 'NO'}; "
      f"keys > 50 ms: {len(slow)}")
EOF
echo "last screen:"; echo "$SCREEN" | head -5
