#!/bin/sh
# run.sh - make fuzz: run each libFuzzer harness for a while and say what it did.
#
# Usage: sh tests/fuzz/run.sh BUILD-DIR SECONDS NAME...
#
# Each harness BUILD-DIR/tests/fuzz/fuzz_NAME runs for SECONDS with its
# dictionary (tests/fuzz/NAME.dict, when there is one) on two corpora: new
# inputs go to BUILD-DIR/corpus/NAME, the seeds and reproducers in
# tests/fuzz/corpus/NAME are read only. A crash is written to
# BUILD-DIR/crashes/NAME/ and stops that harness; the others still run.
# The last line per harness: executions, seconds, executions per second,
# corpus size and crashes, as docs/fuzzing.md records them. FUZZ_FLAGS
# adds libFuzzer options to every run (FUZZ_FLAGS=-runs=10000000 stops a
# harness at ten million executions if SECONDS have not passed first).
set -u
B=${1:?usage: tests/fuzz/run.sh BUILD-DIR SECONDS NAME...}
S=${2:?usage: tests/fuzz/run.sh BUILD-DIR SECONDS NAME...}
shift 2
cd "$(dirname "$0")/../.." || exit 2
bad=0
summary=""
for name in "$@"; do
    h="$B/tests/fuzz/fuzz_$name"
    mkdir -p "$B/corpus/$name" "$B/crashes/$name"
    # shellcheck disable=SC2086
    set -- -max_total_time="$S" -print_final_stats=1 \
        -artifact_prefix="$B/crashes/$name/" ${FUZZ_FLAGS:-}
    dict=tests/fuzz/$name.dict
    [ "$name" = ingest ] && dict=tests/fuzz/batch.dict	# the same format
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    case $name in
        # images and the guarded decode take inputs of a board photo's size
        image|guard) set -- "$@" -max_len=65536 -timeout=60 ;;
        # any other input that takes seconds is a finding (a slow regex, a loop)
        *) set -- "$@" -timeout=10 ;;
    esac
    echo "== fuzz_$name for $S s"
    log="$B/fuzz_$name.log"
    "$h" "$@" "$B/corpus/$name" "tests/fuzz/corpus/$name" > "$log" 2>&1 < /dev/null
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
    files=$(find "$B/corpus/$name" "tests/fuzz/corpus/$name" -type f | wc -l)
    crashes=$(find "$B/crashes/$name" -type f | wc -l)
    line="fuzz_$name: ${execs:-?} executions in ${took:-?} s (${rate:-?}/s), $files corpus files, $crashes crashes"
    if [ "$rc" -ne 0 ]; then
        line="$line, FAILED (exit status $rc, see $log)"
        bad=1
    fi
    echo "$line"
    summary="$summary$line
"
done
echo "== summary"
printf '%s' "$summary"
exit $bad
