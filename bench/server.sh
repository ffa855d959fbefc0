#!/bin/sh
# bench/server.sh - qrwatchd: ingest throughput (results acknowledged, i.e.
# committed to SQLite and written to RRD) and dashboard latency under wrk
# with 10,000 targets. Appends to docs/BENCHMARKS.md.
# Usage: sh bench/server.sh BUILD-DIR
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
OUT=docs/BENCHMARKS.md
TARGETS=10000
PROBES=8
BATCHES=25
RESULTS=100
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM
command -v wrk >/dev/null || { echo "bench: wrk not found (package wrk)" >&2; exit 1; }

# a nation-sized catalog: 10,000 targets on 1,000 boards in 100 communes
{
i=0
while [ $i -lt 100 ]; do
    printf '[place c%03d]\nprovince = Tỉnh %d\ncommune = Xã %d\n' $i $((i / 10)) $i
    i=$((i + 1))
done
i=0
while [ $i -lt 1000 ]; do
    printf '[board b%04d]\nplace = c%03d\nlocation = Bảng %d\n' $i $((i / 10)) $i
    i=$((i + 1))
done
i=0
while [ $i -lt $TARGETS ]; do
    printf '[target t%05d]\nboard = b%04d\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n' $i $((i / 10))
    i=$((i + 1))
done
} > "$TMP/c.catalog"
printf 'bench-secret-of-enough-length\n' > "$TMP/secret"
{
printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\nthreads = 2\nlog_level = warn\n' "$TMP" "$TMP"
i=1
while [ $i -le $PROBES ]; do printf 'probe = bench-%d %s/secret\n' $i "$TMP"; i=$((i + 1)); done
} > "$TMP/qrwatchd.conf"
"$O/qrwatchd" -c "$TMP/qrwatchd.conf" -p "$TMP/port" 2>"$TMP/server.log" &
PIDS="$PIDS $!"
i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
S=$(cat "$TMP/port")
cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$TMP/ingest_load" \
    bench/ingest_load.c "$O/libqrwatch.a" \
    $(pkg-config --cflags --libs libcurl libcrypto json-c zlib libpsl zbar libpng libjpeg) -lm

N=$((PROBES * BATCHES * RESULTS))
echo "== ingest, first results: $N from $PROBES probes, batches of $RESULTS, 2,000 targets"
set -- $("$TMP/ingest_load" "http://127.0.0.1:$S/api/v1/ingest" bench-secret-of-enough-length \
    $PROBES $BATCHES $RESULTS 2000 0)
acked0=$1 secs0=$2 rate0=$3
rrds=$(find "$TMP/data/rrd" -name '*.rrd' | wc -l)
echo "acknowledged $acked0 results in $secs0 s: $rate0 results/s ($rrds RRD files created)"
echo "== ingest, steady state: the next $N results, every RRD file in place"
set -- $("$TMP/ingest_load" "http://127.0.0.1:$S/api/v1/ingest" bench-secret-of-enough-length \
    $PROBES $BATCHES $RESULTS 2000 1)
acked=$1 secs=$2 rate=$3
echo "acknowledged $acked results in $secs s: $rate results/s"
refused=$(curl -s "http://127.0.0.1:$S/metrics" | awk '$1 == "qrwatch_rrd_refused_total" { print $2 }')

echo "== dashboard under wrk (2 threads, 8 connections, 5 s each)"
wrkrow() {  # wrkrow NAME PATH
    wrk -t2 -c8 -d5s --latency "http://127.0.0.1:$S$2" > "$TMP/wrk.txt" 2>&1 || true
    rps=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt")
    p50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.txt")
    p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.txt")
    echo "| $1 | $rps | $p50 | $p99 |"
}
r1=$(wrkrow "overview, $TARGETS targets" /)
r2=$(wrkrow "a target page" /target/t00007)
r3=$(wrkrow "a latency graph (rrd_graph PNG)" /graph/bench-1/t00007/day.png)
r4=$(wrkrow "health check (floor)" /healthz)
printf '%s\n%s\n%s\n%s\n' "$r1" "$r2" "$r3" "$r4"

cat >> "$OUT" <<EOF2

## qrwatchd: ingest and dashboard

Ingest: $PROBES probes at once, each sending $BATCHES signed batches of
$RESULTS results one after another (a probe never has two in flight), over
2,000 targets each (one RRD file per probe and target). A result counts
when its batch is acknowledged: committed to
SQLite (WAL, synchronous=FULL) and written to its RRD file. The first run
creates the $rrds RRD files (1.4 MB each) on the way; the second is the
steady state, every file in place. Results not written to an RRD file in
the end: $refused.

| run | results | time | results per second |
|---|---|---|---|
| first results (creating the RRD files) | $acked0 | $secs0 s | $rate0 |
| steady state | $acked | $secs s | $rate |

For scale: 3,300 communes with 10 targets each checked every minute is
about 550 results per second.

Dashboard: wrk, 2 threads, 8 connections, 5 s per page, against the same
server with a $TARGETS-target catalog; the health check is the floor (no
work but HTTP).

| page | requests/s | latency p50 | latency p99 |
|---|---|---|---|
$r1
$r2
$r3
$r4
EOF2
echo "== appended to $OUT"
