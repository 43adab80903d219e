#!/usr/bin/env bash
# Regenerates the sample captures in Captures/ by running real 9P clients through `ninescope proxy
# --capture`. See Captures/README.md for what each file holds.
#
#   Captures/make-samples.sh            # all samples
#   ONLY=linux-guest Captures/make-samples.sh   # just those named (diod-ls diod-cat diodload-burst
#                                               # synth-error-flush linux-guest linux-guest-faults
#                                               # linux-guest-users)
#   NINESCOPE=path/to/ninescope Captures/make-samples.sh
#
# Needs diod, diodls, diodcat, diodload and python3 (Debian: apt-get install diod python3); the Linux
# guest sample needs what Captures/linux-guest.sh needs (qemu-system-x86, linux-image-amd64,
# busybox-static).
# Timestamps, client ports and diod's qids differ from run to run; the message sequences do not (except
# the diodload burst, whose length depends on the machine's speed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/Captures"
NINESCOPE="${NINESCOPE:-$ROOT/.build/debug/ninescope}"
if [ ! -x "$NINESCOPE" ]; then (cd "$ROOT" && swift build --product ninescope >/dev/null); fi
for tool in diod diodls diodcat diodload python3; do
  command -v "$tool" >/dev/null || { echo "make-samples: $tool is not installed" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/ninescope-samples.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# The export: fixed names and contents, so every regeneration holds the same file data.
# The export path is also the attach name (aname) the clients send, so keep it short and fixed.
EXPORT=/tmp/ninescope-sample-export
rm -rf "$EXPORT"; mkdir -p "$EXPORT/sub/deeper"
printf 'hello, 9p\n' > "$EXPORT/hello.txt"
printf 'nested\n' > "$EXPORT/sub/deeper/n.txt"
# data.bin: 20000 bytes, byte i = (i * 131 + (i >> 8)) mod 256 (tests recompute it).
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 131 + (i >> 8)) & 255 for i in range(20000)))' > "$EXPORT/data.bin"
touch -d '2025-01-01 00:00:00 UTC' "$EXPORT"/hello.txt "$EXPORT"/data.bin "$EXPORT"/sub/deeper/n.txt "$EXPORT"/sub/deeper "$EXPORT"/sub "$EXPORT"

DIOD_PORT=$(free_port)
diod -f -n -c /dev/null -L "$WORK/diod.log" -l "127.0.0.1:$DIOD_PORT" -e "$EXPORT" -e ctl >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$DIOD_PORT"

# start_proxy UPSTREAM FILE [OPTION…]: starts `ninescope proxy` capturing to FILE (with the proxy options
# given after it); sets PROXY_PID and PROXY_ADDR.
start_proxy() {
  local port; port=$(free_port)
  "$NINESCOPE" proxy --listen "127.0.0.1:$port" --upstream "$1" --headless --capture "$2" "${@:3}" >"$2.trace" 2>"$2.log" &
  PROXY_PID=$!; PIDS+=("$PROXY_PID"); PROXY_ADDR="127.0.0.1:$port"
  # Wait for its "listening" line rather than probing the port (a probe would be captured).
  for _ in $(seq 1 200); do grep -q "proxy listening" "$2.log" 2>/dev/null && return 0; sleep 0.05; done
  echo "make-samples: the proxy did not start: $(cat "$2.log")" >&2; exit 1
}
# stop_proxy FILE: SIGINT (the capture is completed), then moves it into Captures/.
stop_proxy() {
  sleep 0.3
  kill -INT "$PROXY_PID"; wait "$PROXY_PID" || true
  mv "$1" "$DEST/$(basename "$1")"
  [ -z "${KEEP_TRACES:-}" ] || cp "$1.trace" "$DEST/$(basename "$1").trace"
  echo "$(basename "$1"): $(tail -1 "$1.log" | sed 's/^ninescope: SIGINT: proxy stopped; //')"
}

# want NAME: whether to make sample NAME (all unless ONLY lists others).
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

# 1. diodls -l of the export root and of /sub.
if want diod-ls; then
start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/diod-ls.pcapng"
diodls -s "$PROXY_ADDR" -a "$EXPORT" -l / /sub >/dev/null
stop_proxy "$WORK/diod-ls.pcapng"
fi

# 2. diodcat of hello.txt and data.bin at msize 8192 (data.bin takes three Treads), then of a file that
#    does not exist (an Rlerror ENOENT).
if want diod-cat; then
start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/diod-cat.pcapng"
diodcat -s "$PROXY_ADDR" -a "$EXPORT" -m 8192 hello.txt data.bin >/dev/null
diodcat -s "$PROXY_ADDR" -a "$EXPORT" -m 8192 no-such-file >/dev/null 2>&1 || true
stop_proxy "$WORK/diod-cat.pcapng"
fi

# 3. A diodload -g burst: two threads issuing Tgetattr as fast as diod answers. diodload's shortest run
#    (-r 1) makes tens of thousands of messages, megabytes of capture; to keep the sample small the client
#    is killed (-9) once the proxy's trace shows 400 lines, so the capture also shows clients that vanished
#    mid-session (their fids leak). The trace reaches its file in 64 KiB blocks, so a few hundred more
#    messages get through before the kill lands.
if want diodload-burst; then
start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/diodload-burst.pcapng"
diodload -s "$PROXY_ADDR" -r 1 -n 2 -g >/dev/null 2>&1 &
LOAD=$!
for _ in $(seq 1 1000); do
  [ "$(wc -l < "$WORK/diodload-burst.pcapng.trace")" -ge 400 ] && break
  kill -0 "$LOAD" 2>/dev/null || break
  sleep 0.005
done
kill -9 "$LOAD" 2>/dev/null || true; wait "$LOAD" 2>/dev/null || true
stop_proxy "$WORK/diodload-burst.pcapng"
fi

# 4. Errors and a flush, against ninescope's own server with the synthetic tree: a walk to a missing
#    name (ENOENT), a read of /FAIL (EIO), a write to /FLUSH that blocks until the client flushes it.
if ! want synth-error-flush; then
  :
elif "$NINESCOPE" help serve >/dev/null 2>&1; then
  SYNTH_PORT=$(free_port)
  "$NINESCOPE" serve --listen "127.0.0.1:$SYNTH_PORT" --driver synth >/dev/null 2>"$WORK/serve.log" &
  PIDS+=($!)
  wait_port "$SYNTH_PORT"
  start_proxy "127.0.0.1:$SYNTH_PORT" "$WORK/synth-error-flush.pcapng"
  python3 "$DEST/sample-client.py" "$PROXY_ADDR"
  stop_proxy "$WORK/synth-error-flush.pcapng"
else
  echo "synth-error-flush.pcapng: skipped (this ninescope has no serve command)" >&2
fi

# 5. The Linux kernel's 9p client: a Linux guest (Captures/linux-guest.sh: Debian's kernel under qemu)
#    mounts the export through the proxy to diod (trans=tcp, 9P2000.L, msize 131072) and runs a short
#    session: ls, cat of hello.txt and sub/deeper/n.txt, new.txt created and written, a directory made,
#    the file moved into it and read back, both removed, umount.
if want linux-guest; then
  start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/linux-guest.pcapng"
  bash "$DEST/linux-guest.sh" "${PROXY_ADDR##*:}" "$EXPORT" sample >"$WORK/linux-guest.console" 2>&1 || true
  if ! grep -q "@@ unmounted" "$WORK/linux-guest.console"; then
    echo "make-samples: the Linux guest did not finish its session:" >&2; cat "$WORK/linux-guest.console" >&2; exit 1
  fi
  stop_proxy "$WORK/linux-guest.pcapng"
fi

# 6. The same kernel meeting a faulty server: the proxy's --fault rules in front of diod refuse a mkdir
#    (ENOSPC, never sent on), hold each Rread back 300 ms, and keep a Twrite from diod until the kernel
#    flushes it (its process is killed); then a listing and unmount (Captures/linux-guest.sh `faults`).
if want linux-guest-faults; then
  start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/linux-guest-faults.pcapng" --fault error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite
  bash "$DEST/linux-guest.sh" "${PROXY_ADDR##*:}" "$EXPORT" faults >"$WORK/linux-guest-faults.console" 2>&1 || true
  rm -f "$EXPORT/hung.txt"
  if ! grep -q "@@ unmounted" "$WORK/linux-guest-faults.console"; then
    echo "make-samples: the Linux guest did not finish its session:" >&2; cat "$WORK/linux-guest-faults.console" >&2; exit 1
  fi
  stop_proxy "$WORK/linux-guest-faults.pcapng"
fi
# 7. The same kernel mounting with access=user: root and nobody each attach with their uid as n_uname; root
#    writes root.txt (mode 0600), nobody reads hello.txt, writes nobody.txt and is refused root.txt
#    (Captures/linux-guest.sh `users`). The export is opened to others for it, and put back after.
if want linux-guest-users; then
  chmod 0777 "$EXPORT"
  start_proxy "127.0.0.1:$DIOD_PORT" "$WORK/linux-guest-users.pcapng"
  bash "$DEST/linux-guest.sh" "${PROXY_ADDR##*:}" "$EXPORT" users >"$WORK/linux-guest-users.console" 2>&1 || true
  rm -f "$EXPORT/root.txt" "$EXPORT/nobody.txt"; chmod 0755 "$EXPORT"
  if ! grep -q "@@ unmounted" "$WORK/linux-guest-users.console"; then
    echo "make-samples: the Linux guest did not finish its session:" >&2; cat "$WORK/linux-guest-users.console" >&2; exit 1
  fi
  stop_proxy "$WORK/linux-guest-users.pcapng"
fi
ls -l "$DEST"/*.pcapng
