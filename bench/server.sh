#!/bin/sh
# bench/server.sh - qrwatchd: ingest throughput (results acknowledged, i.e.
# committed to SQLite and written to RRD) and dashboard latency under wrk
# with 10,000 targets while ingest runs at 500 results/s. Writes its
# section of docs/BENCHMARKS.md (bench/section.sh).
# Usage: sh bench/server.sh BUILD-DIR   (RATE=, RUNS= to change the load and runs)
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
. bench/section.sh
OUT=docs/BENCHMARKS.md
TARGETS=10000
PROBES=8
BATCHES=25
RESULTS=100
SLICE=$((TARGETS / PROBES))	# targets of each probe: every probe's slice in the catalog
RATE=${RATE:-500}	# results/s of ingest while the dashboard is measured
RUNS=${RUNS:-3}		# wrk runs of each page
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT INT TERM
command -v wrk >/dev/null || { echo "bench: wrk not found (package wrk)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 not found (package sqlite3)" >&2; exit 1; }

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
echo "== ingest, first results: $N from $PROBES probes, batches of $RESULTS, $SLICE targets each"
set -- $("$TMP/ingest_load" "http://127.0.0.1:$S/api/v1/ingest" bench-secret-of-enough-length \
    $PROBES $BATCHES $RESULTS $SLICE 0)
acked0=$1 secs0=$2 rate0=$3
[ "$acked0" -eq "$N" ] || { echo "bench: $acked0 of $N results acknowledged" >&2; exit 1; }
rrds=$(find "$TMP/data/rrd" -name '*.rrd' | wc -l)
echo "acknowledged $acked0 results in $secs0 s: $rate0 results/s ($rrds RRD files created)"
echo "== ingest, steady state: the next $N results, every RRD file in place"
set -- $("$TMP/ingest_load" "http://127.0.0.1:$S/api/v1/ingest" bench-secret-of-enough-length \
    $PROBES $BATCHES $RESULTS $SLICE 1)
acked=$1 secs=$2 rate=$3
[ "$acked" -eq "$N" ] || { echo "bench: $acked of $N results acknowledged" >&2; exit 1; }
echo "acknowledged $acked results in $secs s: $rate results/s"
refused=$(curl -s "http://127.0.0.1:$S/metrics" | awk '$1 == "qrwatch_rrd_refused_total" { print $2 }')
# the files are made in the background: all of them before the pages are
# measured, so that no creation weighs on them (nor on the graphs drawn)
NFILES=$((PROBES * SLICE))
i=0
while [ "$(find "$TMP/data/rrd" -name '*.rrd' | wc -l)" -lt $NFILES ] && [ $i -lt 600 ]; do
    sleep 1; i=$((i + 1))
done
made=$(find "$TMP/data/rrd" -name '*.rrd' | wc -l)
[ "$made" -eq $NFILES ] || { echo "bench: $made of $NFILES RRD files made after 600 s" >&2; exit 1; }
echo "all $NFILES RRD files made, $i s after the steady-state run"

echo "== dashboard under wrk (2 threads, 8 connections, 5 s, $RUNS runs each) with ingest at $RATE results/s"
# the load beside it: the probes of the runs above whose slices are in the
# catalog, over the same (probe, target) pairs (their RRD files are made:
# no file is created while the pages are measured), batches of 25, paced,
# stamped with the wall clock
# the RRD files made above (1.4 MB each) are written out first, so that their
# writeback does not weigh on the pages measured
t_sync=$(date +%s); sync; t_sync=$(( $(date +%s) - t_sync ))
LPROBES=$PROBES
"$TMP/ingest_load" "http://127.0.0.1:$S/api/v1/ingest" bench-secret-of-enough-length \
    $LPROBES 1000000 25 $SLICE 2 $RATE > "$TMP/load.txt" 2> "$TMP/load.err" &
LOAD=$!
PIDS="$PIDS $LOAD"
sleep 2
changes0=$(sqlite3 "$TMP/data/qrwatch.db" 'SELECT count(*) FROM verdict_changes')
t_changes0=$(date +%s)
# every graph a new one: files and periods in a shuffled list, each run its own part
find "$TMP/data/rrd" -name '*.rrd' | sed "s|^$TMP/data/rrd/||; s|\.rrd$||" |
    while read -r f; do for p in day week month year; do echo "/graph/$f/$p.png"; done; done |
    shuf > "$TMP/graphs.txt"
cat > "$TMP/fresh.lua" <<'LUA'
-- every request a graph not asked for before: thread t takes every other line
local paths = {}
for line in io.lines(os.getenv("GRAPHS")) do paths[#paths + 1] = line end
local n, threads = 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function request()
  local i = tonumber(os.getenv("OFFSET")) + tid + 2 * n
  n = n + 1
  return wrk.format("GET", paths[i % #paths + 1])
end
LUA
wrkrun() {  # wrkrun PATH [wrk args]: prints "rps p50 p99" of one 5 s run
    path=$1
    shift
    wrk -t2 -c"${CONNS:-8}" -d5s --latency "$@" "http://127.0.0.1:$S$path" > "$TMP/wrk.txt" 2>&1 || true
    awk '/Requests\/sec/ { r = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
         /Non-2xx/ { bad = $NF } END { printf "%s %s %s %s\n", r, p50, p99, bad ? bad : 0 }' "$TMP/wrk.txt"
}
wrkrow() {  # wrkrow NAME PATH [wrk args]: RUNS runs, one table row
    name=$1 path=$2
    shift 2
    args="$*" rps="" p50="" p99="" bad=0 k=0
    while [ $k -lt "$RUNS" ]; do
        export OFFSET=$((${BASE:-0} + k * 5000))	# the fresh graphs' part of the list
        # shellcheck disable=SC2086
        set -- $(wrkrun "$path" $args)
        rps="$rps${rps:+, }$1" p50="$p50${p50:+, }$2" p99="$p99${p99:+, }$3" bad=$((bad + $4))
        k=$((k + 1))
    done
    echo "| $name | $rps | $p50 | $p99 | $bad |"
}
export GRAPHS="$TMP/graphs.txt"
r1=$(wrkrow "overview, $TARGETS targets (gzip)" / -H Accept-Encoding:gzip)
r2=$(wrkrow "a target page" /target/t00007)
r3=$(wrkrow "a graph, fresh (each request another file or period)" / -s "$TMP/fresh.lua")
r3b=$(CONNS=2 BASE=20000 wrkrow "a graph, fresh, 2 connections (one per graph worker)" / -s "$TMP/fresh.lua")
curl -s -o /dev/null "http://127.0.0.1:$S/graph/bench-1/t00007/day.png"
r4=$(wrkrow "a graph, cached (one file and period)" /graph/bench-1/t00007/day.png)
r5=$(wrkrow "health check (floor)" /healthz)
changes=$(( $(sqlite3 "$TMP/data/qrwatch.db" 'SELECT count(*) FROM verdict_changes') - changes0 ))
changes_s=$(( changes / ( $(date +%s) - t_changes0 ) ))
kill -TERM "$LOAD"
wait "$LOAD" || true
set -- $(cat "$TMP/load.txt") 0 0 0
lacked=$1 lsecs=$2 lrate=$3
lerrs=$(wc -l < "$TMP/load.err")
printf '%s\n%s\n%s\n%s\n%s\n%s\n' "$r1" "$r2" "$r3" "$r3b" "$r4" "$r5"
echo "ingest beside it: $lacked results in $lsecs s ($lrate/s, $lerrs refused), $changes_s verdict changes/s (sync before: $t_sync s)"

cat > "$TMP/section" <<EOF2
## qrwatchd: ingest and dashboard

Ingest: $PROBES probes at once, each sending $BATCHES signed batches of
$RESULTS results one after another (a probe never has two in flight), over
$SLICE targets each (one RRD file per probe and target). A result counts
when its batch is acknowledged: committed to
SQLite (WAL, synchronous=FULL) and written to its RRD file. The first run
asks for all $NFILES RRD files (1.4 MB each), made in the background:
$rrds of them by the time its last batch was acknowledged; the second
follows at once, while the rest are made. Results not written to an RRD
file in the end: $refused. Every file was made $i s after the second
run, before the pages were measured.

| run | results | time | results per second |
|---|---|---|---|
| first results (the RRD files being made) | $acked0 | $secs0 s | $rate0 |
| next results | $acked | $secs s | $rate |

For scale: 3,300 communes with 10 targets each checked every minute is
about 550 results per second.

Dashboard: wrk, 2 threads, 8 connections, 5 s per page, $RUNS runs each
(the figures of each run, in order), against the same server with a
$TARGETS-target catalog, while $LPROBES probes push batches of 25 at
$RATE results/s over the whole catalog: $lacked results acknowledged in
$lsecs s ($lrate/s; $lerrs batches refused), about $changes_s verdict
changes a second (OK and SLOW alternate), so the overview is drawn again
for most requests. A fresh graph is one not asked for before (files and
periods from a shuffled list), a cached one the same file and period
again. The health check is the floor: no work but HTTP, on the same two
cores as the load, wrk and the server. A fresh graph is CPU: rrdcached's
FLUSH of its file, then rrd_graph reading the file itself (not fetching
through rrdcached, whose text answer cost more to parse than the
drawing) and drawing lines without anti-aliasing; graph_workers = 2
processes draw, so 8 connections asking for new graphs each wait for
about four drawings; with 2 connections, one per worker, the row below
shows a drawing's own time.

| page | requests/s | latency p50 | latency p99 | non-2xx |
|---|---|---|---|---|
$r1
$r2
$r3
$r3b
$r4
$r5
EOF2
put_section "$OUT" "$TMP/section"
