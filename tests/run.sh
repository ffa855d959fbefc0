#!/bin/sh
# run.sh - run every test program and test script against a build, then
# print one line "N passed, N failed" and exit non-zero if anything failed.
#
# Usage: sh tests/run.sh BUILD-DIR
set -u
O=${1:?usage: tests/run.sh BUILD-DIR}
cd "$(dirname "$0")/.." || exit 2
export QRW_BUILD="$O"
# Sanitizers: fail on the first report; leak checks on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
log=$(mktemp "${TMPDIR:-/tmp}/qrwatch-tests.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

# run NAME COMMAND...: stream its output, then add its closing counts.
run() {
    name=$1
    shift
    echo "== $name"
    "$@" > "$log" 2>&1
    rc=$?
    grep -Ev '^[0-9]+ passed, [0-9]+ failed$' "$log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $name: ended without a result line (exit status $rc)"
        failed=$((failed + 1))
        return
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed*}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exit status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

run unit "$O/tests/unit-tests"
# every fuzzing corpus and stored reproducer, once, through its harness
# built without libFuzzer (tests/fuzz/replay.c; docs/fuzzing.md)
for d in tests/fuzz/corpus/*/; do
    [ -d "$d" ] || continue
    name=$(basename "$d")
    run "fuzz_$name replay" "$O/tests/fuzz/fuzz_$name" "tests/fuzz/corpus/$name"
done
for t in tests/cli/test_*.sh; do
    run "$(basename "$t" .sh)" sh "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
