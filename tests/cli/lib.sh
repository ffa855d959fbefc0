# lib.sh - a small harness for the command-line tests: each check names
# what it ran and what it expected; the script ends with "N passed, N failed".
QRW_BUILD=${QRW_BUILD:-build}
QRWATCH="$QRW_BUILD/qrwatch"
T_PASS=0
T_FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

pass() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; }

# expect_run NAME STATUS COMMAND...: run, keep stdout in $OUT, stderr in $ERR.
expect_run() {
    name=$1 want=$2
    shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"
    got=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    if [ "$got" -eq "$want" ]; then
        pass "$name: exit status $want"
    else
        fail "$name: exit status" "expected $want, got $got" "stderr: $ERR"
    fi
}

# expect_contains NAME HAYSTACK NEEDLE
expect_contains() {
    case "$2" in
        *"$3"*) pass "$1" ;;
        *) fail "$1" "expected to contain: $3" "got: $2" ;;
    esac
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $3" "got: $2"; fi
}

# wait_file FILE [TENTHS]: until FILE exists and is not empty, 10 s by default
wait_file() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
}

# rrd DATA_DIR rrdtool-ARGS...: rrdtool on a running qrwatchd's files, through
# its rrdcached (DATA_DIR/rrdcached.sock) when there is one, which writes out
# what it holds for the file first
rrd() {
    d=$1
    shift
    if [ -S "$d/rrdcached.sock" ]; then
        RRDCACHED_ADDRESS="unix:$d/rrdcached.sock" rrdtool "$@"
    else
        rrdtool "$@"
    fi
}

# rrd_last DATA_DIR FILE: the time of FILE's last update (rrdcached's own LAST
# answers the last step boundary, so through lastupdate)
rrd_last() {
    rrd "$1" lastupdate "$2" | tail -n 1 | cut -d: -f1
}

# wait_rrd DATA_DIR FILE [TENTHS]: until FILE (made in the background) holds a
# result, 10 s by default
wait_rrd() {
    i=0
    while [ $i -lt "${3:-100}" ]; do
        if [ -e "$2" ] && rrd "$1" lastupdate "$2" 2>/dev/null | tail -n 1 | grep -q '^[0-9]*: [0-9]'; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

finish() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
}
