#!/bin/sh
# bench/ingest.sh - qrwatchd's ingest throughput over 16,000 targets, with
# the floors measured beside it in the same run: SQLite alone, rrdcached
# alone and HTTP alone, each taking the same results. Writes its section of
# docs/BENCHMARKS.md (or $BENCH_OUT; bench/section.sh).
# Usage: sh bench/ingest.sh BUILD-DIR
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
. bench/section.sh
OUT=${BENCH_OUT:-docs/BENCHMARKS.md}
PROBES=${BENCH_PROBES:-8}
PER_PROBE=${BENCH_PER_PROBE:-2000}	# targets of each probe: PROBES x PER_PROBE files
BATCHES=${BENCH_BATCHES:-40}
RESULTS=${BENCH_RESULTS:-500}
TARGETS=$((PROBES * PER_PROBE))
SECRET=bench-secret-of-enough-length
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
command -v rrdcached >/dev/null || { echo "bench: rrdcached not found (package rrdcached)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 not found (package sqlite3)" >&2; exit 1; }

# TARGETS targets on boards of 10 in communes of 100 boards
awk -v n="$TARGETS" 'BEGIN {
    nb = int((n + 9) / 10); nc = int((nb + 99) / 100)
    for (i = 0; i < nc; i++)
        printf "[place c%03d]\nprovince = Tỉnh Bench\ncommune = Xã %d\n", i, i
    for (i = 0; i < nb; i++)
        printf "[board b%05d]\nplace = c%03d\nlocation = Bảng %d\n", i, int(i / 100), i
    for (i = 0; i < n; i++)
        printf "[target t%05d]\nboard = b%05d\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n", i, int(i / 10)
}' > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/secret"
{
printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\nthreads = 2\nlog_level = warn\n' "$TMP" "$TMP"
i=1
while [ $i -le "$PROBES" ]; do printf 'probe = bench-%d %s/secret\n' $i "$TMP"; i=$((i + 1)); done
} > "$TMP/qrwatchd.conf"

LIBS=$(pkg-config --cflags --libs libcurl libcrypto json-c zlib libpsl zbar libpng libjpeg)
cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$TMP/ingest_load" \
    bench/ingest_load.c "$O/libqrwatch.a" $LIBS -lm
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$TMP/floors" bench/floors.c \
    "$O/dashboard/store.o" "$O/dashboard/store_ingest.o" "$O/dashboard/store_read.o" \
    "$O/dashboard/rrdstore.o" "$O/alerts/astore.o" "$O/libqrwatch.a" \
    $LIBS $(pkg-config --libs sqlite3 librrd) -lpthread -lm

# cpu_ticks PID: user + system clock ticks of a process and its children still running
cpu_ticks() {
    t=0
    for p in "$1" $(pgrep -P "$1" || true); do
        set -- $(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null || echo)
        [ $# -ge 13 ] && t=$((t + ${12} + ${13}))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)

"$O/qrwatchd" -c "$TMP/qrwatchd.conf" -p "$TMP/port" >/dev/null 2>"$TMP/server.log" &
SPID=$!
PIDS="$PIDS $SPID"
i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/port" ] || { echo "bench: qrwatchd did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")/api/v1/ingest"
N=$((PROBES * BATCHES * RESULTS))

# run PHASE: sends N results, prints "acked seconds rate cpu_us_per_result"
run() {
    c0=$(cpu_ticks "$SPID")
    set -- $("$TMP/ingest_load" "$URL" "$SECRET" "$PROBES" "$BATCHES" "$RESULTS" \
        "$PER_PROBE" "$1" 2>>"$TMP/load.log")
    c1=$(cpu_ticks "$SPID")
    echo "$1 $2 $3 $(( (c1 - c0) * 1000000 / HZ / ($1 > 0 ? $1 : 1) ))"
}

nfiles() { find "$TMP/data/rrd" -name '*.rrd' | wc -l; }
echo "== ingest, creating the RRD files: $N results from $PROBES probes, batches of $RESULTS"
t0=$(date +%s%N)
set -- $(run 0); acked0=$1 secs0=$2 rate0=$3 cpu0=$4
rrds_acked=$(nfiles)
# the phase ends when every file is made and holds what waited for it
i=0; while [ "$(nfiles)" -lt "$TARGETS" ] && [ $i -lt 6000 ]; do sleep 0.1; i=$((i + 1)); done
made_s=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.3f", ns / 1e9 }')
made_rate=$(awk -v n="$acked0" -v s="$made_s" 'BEGIN { printf "%.0f", n / s }')
rrds=$(nfiles)
# the new files' bytes reach the disk before the steady state is timed
t0=$(date +%s%N)
sync
sync_s=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.1f", ns / 1e9 }')
mb=$(du -sm "$TMP/data/rrd" | awk '{ print $1 }')
echo "acknowledged $acked0 in $secs0 s: $rate0 results/s, $cpu0 µs of server CPU per result"
echo "$mb MB of RRD files, then $sync_s s to write back what was still in memory"
echo "$rrds_acked RRD files made by then, all $rrds after $made_s s: $made_rate results/s with every file made"
echo "== ingest, steady state: the next $N results"
set -- $(run 1); acked1=$1 secs1=$2 rate1=$3 cpu1=$4
echo "acknowledged $acked1 in $secs1 s: $rate1 results/s, $cpu1 µs of server CPU per result"

# nothing lost, nothing doubled: every acknowledged result is a row once,
# and every RRD file ends at its pair's newest result
refused=$(curl -s "${URL%/api/v1/ingest}/metrics" | awk '$1 == "qrwatch_rrd_refused_total" { print $2 }')
kill "$SPID"; wait "$SPID" 2>/dev/null || true
PIDS=""
rows=$(sqlite3 "$TMP/data/qrwatch.db" "SELECT count(*) FROM results")
distinct=$(sqlite3 "$TMP/data/qrwatch.db" \
    "SELECT count(*) FROM (SELECT DISTINCT probe, target, probe_time FROM results)")
sqlite3 -separator ' ' "$TMP/data/qrwatch.db" \
    "SELECT probe, target, max(time_ms) / 1000 FROM results GROUP BY probe, target
     ORDER BY random() LIMIT 50" > "$TMP/sample"
bad_rrd=0
while read -r p t last; do
    got=$(rrdtool lastupdate "$TMP/data/rrd/$p/$t.rrd" | awk -F: 'NR == 3 { print $1 }')
    [ "$got" = "$last" ] || bad_rrd=$((bad_rrd + 1))
done < "$TMP/sample"
lost=$(( acked0 + acked1 - rows ))
echo "rows $rows (distinct $distinct) for $((acked0 + acked1)) acknowledged; refused $refused; RRD files behind: $bad_rrd of 50"
verdict=ok
[ "$lost" -eq 0 ] && [ "$rows" -eq "$distinct" ] && [ "$bad_rrd" -eq 0 ] && [ "${refused:-x}" = 0 ] || verdict=FAILED

echo "== floors: the same results through SQLite alone, rrdcached alone, HTTP alone"
mkdir -p "$TMP/floor-db"
set -- $("$TMP/floors" sqlite "$TMP/floor-db" "$PROBES" "$BATCHES" "$RESULTS" "$PER_PROBE" 0)
sq0=$3
set -- $("$TMP/floors" sqlite "$TMP/floor-db" "$PROBES" "$BATCHES" "$RESULTS" "$PER_PROBE" 1)
sq1=$3
set -- $("$TMP/floors" rrd "$TMP/data" "$PROBES" "$BATCHES" "$RESULTS" "$PER_PROBE" 2)
rr=$3 rr_ckpt=$4
# HTTP: the same batches refused for a wrong signature, after the body is read and hashed
"$O/qrwatchd" -c "$TMP/qrwatchd.conf" -p "$TMP/port2" >/dev/null 2>>"$TMP/server.log" &
SPID=$!
PIDS="$SPID"
i=0; while [ ! -s "$TMP/port2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://127.0.0.1:$(cat "$TMP/port2")/api/v1/ingest"
t0=$(date +%s%N)
"$TMP/ingest_load" "$URL" "not-the-secret-of-any-probe" "$PROBES" "$BATCHES" "$RESULTS" \
    "$PER_PROBE" 3 >/dev/null 2>"$TMP/http.log" || true
t1=$(date +%s%N)
http=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
refusals=$(grep -c 'HTTP 401' "$TMP/http.log" || true)
echo "SQLite alone $sq0 / $sq1 results/s, rrdcached alone $rr (then $rr_ckpt s to flush and sync), HTTP alone $http ($refusals batches refused 401)"

r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat > "$TMP/section" <<EOF
## qrwatchd: ingest over $TARGETS targets

$PROBES probes at once, each sending $BATCHES signed batches of $RESULTS
results one after another (a probe never has two in flight), over
$PER_PROBE targets each: $TARGETS (probe, target) pairs, one RRD file each.
A result counts when its batch is acknowledged: committed to SQLite (WAL,
synchronous=FULL, batches arriving together in one transaction) and
handed to qrwatchd's rrdcached (its files synced and their high-water
marks moved at the next checkpoint). The first run creates the $rrds RRD
files on the way, in the background (results wait in SQLite for their
file): it is timed to the acknowledgement of its last batch, and to the
moment the last file is made ($rrds_acked were made by the last
acknowledgement); the files are $mb MB in all, which the disk has to
take (after the run, \`sync\` took $sync_s s more). The second run is the
steady state, started once that was on disk. Server CPU is qrwatchd's
and its rrdcached's user + system time over the run.

| run | results | time | results/s | server CPU per result |
|---|---|---|---|---|
| first results, acknowledged | $acked0 | $secs0 s | $rate0 | $cpu0 µs |
| first results, every RRD file made ($rrds) | $acked0 | $made_s s | $made_rate | |
| steady state | $acked1 | $secs1 s | $rate1 | $cpu1 µs |

Nothing lost or doubled ($verdict): $rows rows, $distinct distinct, for
$((acked0 + acked1)) acknowledged results; $refused updates refused by an
RRD file; $bad_rrd of 50 sampled files behind their newest result.

Floors, the same results in the same run: SQLite alone is
\`store_put_result()\` in one synced transaction per $PROBES batches (no
HTTP, JSON or alerts); rrdcached alone is \`rrdstore_write()\` of the same
updates to the files made above (the checkpoint that follows, rrdcached's
FLUSH of every file and a sync, took $rr_ckpt s more; qrwatchd does it every
\`rrd_checkpoint\`, 5 minutes by default, off the ingest path); HTTP alone is the same batches refused
for a wrong signature (body read and hashed, nothing stored).

| floor | results/s | qrwatchd steady / floor |
|---|---|---|
| SQLite alone, first results | $sq0 | $(r "$rate0" "$sq0") (creating) |
| SQLite alone, steady | $sq1 | $(r "$rate1" "$sq1") |
| rrdcached alone | $rr | $(r "$rate1" "$rr") |
| HTTP alone | $http | $(r "$rate1" "$http") |
EOF
put_section "$OUT" "$TMP/section"
echo "== $verdict"
[ "$verdict" = ok ]
