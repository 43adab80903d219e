# Shared helpers for the benchmark scripts (sourced). Not tests: they print figures and ratios.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"; mkdir -p "$OUT"
NINESCOPE="${NINESCOPE:-$ROOT/.build/release/ninescope}"
ensure_release() {
  if [ ! -x "$NINESCOPE" ] || [ -n "$(find "$ROOT/Sources" -newer "$NINESCOPE" -name '*.swift' | head -1)" ]; then
    # (swift build prints its errors on standard output: show them when it fails.)
    local log; log=$(mktemp)
    (cd "$ROOT" && swift build -c release >"$log" 2>&1) || { cat "$log" >&2; rm -f "$log"; echo "bench: the release build failed" >&2; exit 1; }
    rm -f "$log"
  fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
start_diod() { # start_diod PORT EXPORT -> sets DIOD_PID
  diod -f -n -c /dev/null -L "$OUT/diod-$1.log" -l "127.0.0.1:$1" -e "$2" -e ctl >/dev/null 2>&1 &
  DIOD_PID=$!; wait_port "$1"
}
now_ns() { date +%s%N; }
# diodload -r N runs until the wall clock reaches the whole second N after the one it started in (it
# compares time(NULL) with its start + N) but reports its operations / N: started 0.9 s into a second, a
# 5 s run lasts 4.1 s and reports 18% too few. at_whole_second returns just after the next second begins,
# so that a run started then lasts N seconds less the milliseconds diodload takes to start.
at_whole_second() { python3 -c 'import time; time.sleep(1.005 - time.time() % 1)'; }
ratio() { # ratio A B -> A/B to two places; "-" when either is missing ("-" or empty)
  python3 -c "import sys; a,b=sys.argv[1:3]; print('-' if a in ('','-') or b in ('','-') else f'{float(a)/float(b):.2f}' if float(b) else 'n/a')" "${1:-}" "${2:-}"; }
