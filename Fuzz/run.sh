#!/usr/bin/env bash
# Coverage-guided fuzzing of what ninescope reads from outside (the harness in Fuzz/Harness, driven by
# libFuzzer from Fuzz/NinescopeFuzz): capture files, 9P streams and frames, the hosted server's requests,
# the proxy's relay, typed filters and REPL lines, the inspector's screen, replays. Not a test: it
# runs until FUZZ_SECONDS (default 600) pass or it finds a bug, which it prints and keeps in
# Fuzz/crashes/ (replay one: `.build-fuzz/release/NinescopeFuzz Fuzz/crashes/crash-…`; once fixed, move it
# to Fuzz/regressions/, which the suite runs).
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 bash Fuzz/run.sh
# The corpus grows in .build-fuzz/corpus (seeded each run from Captures/, Fuzz/seeds/ and Fuzz/regressions/).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
SCRATCH=.build-fuzz
export NINESCOPE_FUZZ=1
swift build -c release --scratch-path "$SCRATCH" --product NinescopeFuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
BIN="$SCRATCH/release/NinescopeFuzz"

CORPUS="$SCRATCH/corpus"
mkdir -p "$CORPUS" Fuzz/crashes
# Seeds (FuzzSeeds.all in Fuzz/Harness/Seeds.swift, the same the suite runs): each capture in Captures/
# whole, as streams, frames, server requests, relayed pieces, screen sessions and replays; the typed
# examples in Fuzz/seeds/; and the inputs in Fuzz/regressions/, each of which once broke a property.
"$BIN" --seeds "$CORPUS"

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
