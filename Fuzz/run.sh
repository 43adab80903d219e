#!/usr/bin/env bash
# Coverage-guided fuzzing of what ninescope reads from outside (Fuzz/NinescopeFuzz/Fuzz.swift): capture
# files, 9P streams and frames, the hosted server's requests, typed filters and REPL lines. Not a test: it
# runs until FUZZ_SECONDS (default 600) pass or it finds a bug, which it prints and keeps in
# Fuzz/crashes/ (replay one: `.build-fuzz/release/NinescopeFuzz Fuzz/crashes/crash-…`).
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 bash Fuzz/run.sh
# The corpus grows in .build-fuzz/corpus (seeded each run from Captures/ and Fuzz/seeds/).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
SCRATCH=.build-fuzz
export NINESCOPE_FUZZ=1
swift build -c release --scratch-path "$SCRATCH" --product NinescopeFuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing
BIN="$SCRATCH/release/NinescopeFuzz"

CORPUS="$SCRATCH/corpus"
mkdir -p "$CORPUS" Fuzz/crashes
# Seeds: each capture in Captures/ (part 0); its first frames as a connection's stream (part 1), on the
# inspector's screen under keys (part 6) and replayed to the hosted server (part 7); each of its TCP
# payloads as a frame (part 2), as a server request (part 4) and as a relayed stream in two pieces
# (part 5); the typed examples in Fuzz/seeds/ (part 3).
python3 - "$CORPUS" Captures/*.pcapng <<'PY'
import os, struct, subprocess, sys
out, captures = sys.argv[1], sys.argv[2:]
def put(name, data):
    with open(os.path.join(out, name), 'wb') as f: f.write(data)
for n, path in enumerate(captures):
    data = open(path, 'rb').read()
    if len(data) <= 200_000: put(f'capture-{n}', b'\x00' + data)
    fields = subprocess.run(['tshark', '-r', path, '-T', 'fields', '-e', 'tcp.payload'],
                            capture_output=True, text=True).stdout.split()
    # The first frames as one connection's stream (part 1), and under keys on the inspector's screen (part 6).
    stream = b''
    for h in fields[:40]:
        frame = bytes.fromhex(h.split(',')[0])[:765]
        if len(frame) < 5: continue
        frame += b'\0' * (-len(frame) % 3)
        stream += bytes([frame[4] & 1, len(frame) // 3]) + frame
    keys = b'jjjk\x00G g F\x03S\x03A\x03C\x03?\x03/Twalk or error\x00\\Rread\x00nN:walk 0 9 a\x00'
    put(f'stream-{n}', b'\x01' + stream)
    put(f'screen-{n}', b'\x06' + bytes([70, 21, len(keys)]) + keys + stream)
    put(f'replay-{n}', b'\x07' + stream)
    for k, h in enumerate(fields[:80]):
        frame = bytes.fromhex(h.split(',')[0])
        if 7 <= len(frame) <= 4000:
            put(f'frame-{n}-{k}', b'\x02' + frame)
            body = frame[4:]
            if len(body) - 3 < 256: put(f'server-{n}-{k}', b'\x04\x02' + bytes([len(body) - 3]) + body)
            if len(frame) <= 510:
                half = len(frame) // 2
                put(f'relay-{n}-{k}', b'\x05' + bytes([k & 1, 0, 0x20, half]) + frame[:half]
                    + bytes([len(frame) - half]) + frame[half:])
PY
if [ -d Fuzz/seeds ]; then
  for f in Fuzz/seeds/*; do (printf '\x03'; cat "$f") > "$CORPUS/typed-$(basename "$f")"; done
fi

echo "fuzzing for ${SECONDS_TO_RUN}s with $JOBS job(s); findings go to Fuzz/crashes/"
ROOT=$PWD
# A failed property is a fatalError: let libFuzzer report it and keep the input, rather than Swift's
# backtracer (which can wait on the crashed process for a long time under the sanitizers).
export SWIFT_BACKTRACE=enable=no
ARGS=("$ROOT/$CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len=20000 -rss_limit_mb=4096 -timeout=20
      -artifact_prefix="$ROOT/Fuzz/crashes/" -print_final_stats=1)
status=0
if [ "$JOBS" -gt 1 ]; then   # each job logs to fuzz-N.log in the build folder
  (cd "$SCRATCH" && "$ROOT/$BIN" "${ARGS[@]}" -jobs="$JOBS" -workers="$JOBS") || status=$?
else
  "$ROOT/$BIN" "${ARGS[@]}" || status=$?
fi
if [ "$status" -ne 0 ] || compgen -G 'Fuzz/crashes/*' >/dev/null; then
  echo "found: $(ls Fuzz/crashes)"; exit 1
fi
echo "nothing found"
