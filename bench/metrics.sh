#!/bin/sh
# bench/metrics.sh - /metrics at province scale: its size, series and time
# for a catalog of TARGETS codes in 100 communes with 6 procedures, each
# code's latest result from PER probes. The results are put straight into
# the database (ingest has its own benchmark, bench/server.sh), then GET
# /metrics is timed, and checked with promtool when it is installed.
# Usage: sh bench/metrics.sh BUILD-DIR [TARGETS [PER]]   (10,000 and 1 by default)
set -eu
O=${1:-build}
N=${2:-10000}
PER=${3:-1}
cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT INT TERM

# 100 communes of one province, 10 boards each, the codes spread over them
awk -v n="$N" 'BEGIN {
    split("Đăng ký khai sinh|Đăng ký khai tử|Đăng ký kết hôn|Chứng thực bản sao|Xác nhận tình trạng hôn nhân|Nộp phí (VietQR)", proc, "|")
    for (c = 0; c < 100; c++)
        printf "[place c%03d]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An %d\n", c, c
    for (b = 0; b < 1000; b++)
        printf "[board b%04d]\nplace = c%03d\nlocation = Nhà văn hoá %d\n", b, b % 100, b
    for (i = 0; i < n; i++)
        printf "[target t%06d]\nboard = b%04d\nprocedure = %s\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n", i, i % 1000, proc[int(i / 1000) % 6 + 1]
}' > "$TMP/c.catalog"
printf 'bench-secret-of-enough-length\n' > "$TMP/secret"
{
printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\n' "$TMP" "$TMP"
printf 'rrdcached = off\nlog_level = warn\nprovince = bac-ninh\n'
awk -v per="$PER" -v s="$TMP/secret" 'BEGIN {
    for (c = 0; c < 100; c++) for (k = 0; k < per; k++) printf "probe = p%03d-%d %s\n", c, k, s }'
} > "$TMP/qrwatchd.conf"
start() {
    rm -f "$TMP/port"
    "$O/qrwatchd" -c "$TMP/qrwatchd.conf" -p "$TMP/port" 2>>"$TMP/server.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$TMP/port" ] || { cat "$TMP/server.log" >&2; exit 1; }
}
# the schema, then every (probe, target)'s latest result: one in 50 STALE, one in 17 DOWN
start
kill "$SPID"; wait "$SPID" || true
now=$(($(date +%s) * 1000))
sqlite3 "$TMP/data/qrwatch.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $N),
  k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < $PER)
INSERT INTO latest (probe, target, time_ms, probe_time, verdict, since_ms, total_us, nsteps)
SELECT printf('p%03d-%d', i % 100, j), printf('t%06d', i), $now, '2026-01-01T00:00:00.000Z',
  CASE WHEN i % 50 = 0 THEN 'STALE' WHEN i % 17 = 0 THEN 'DOWN' ELSE 'OK' END,
  $now, 1234567 + i, 1 FROM n, k;
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < 100),
  k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < $PER)
INSERT INTO probes (id, last_seq, last_seen_ms, uplink, version, clock_offset_ms, since_sync_s,
  spool_pending, spool_dropped, epoch, epoch_since_ms, epochs)
SELECT printf('p%03d-%d', i, j), 1, $now, '4g', 'bench', 12, 0, 0, 0, 'e', $now, 1 FROM c, k;
COMMIT;
SQL
start
S=$(cat "$TMP/port")
echo "== /metrics: $N targets, $PER probe(s) per target, $(sqlite3 "$TMP/data/qrwatch.db" 'SELECT count(*) FROM latest') pairs"
times=""
for i in 1 2 3 4 5; do
    t=$(curl -s -o "$TMP/m.txt" -w '%{http_code} %{time_total}' "http://127.0.0.1:$S/metrics")
    case "$t" in 200\ *) ;; *) echo "/metrics answered $t" >&2; exit 1 ;; esac
    times="$times ${t#* }"
done
# as Prometheus asks for it: gzipped (level 1, made for each scrape)
gztimes=""
for i in 1 2 3 4 5; do
    t=$(curl -s -H 'Accept-Encoding: gzip' -o "$TMP/m.gz" -w '%{http_code} %{time_total}' "http://127.0.0.1:$S/metrics")
    case "$t" in 200\ *) ;; *) echo "/metrics (gzip) answered $t" >&2; exit 1 ;; esac
    gztimes="$gztimes ${t#* }"
done
gunzip -t "$TMP/m.gz" || { echo "/metrics (gzip): not gzip" >&2; exit 1; }
gzbytes=$(wc -c < "$TMP/m.gz")
med() { printf '%s\n' $1 | sort -n | sed -n 3p; }
bytes=$(wc -c < "$TMP/m.txt")
series=$(awk '$1 ~ /^qrwatch_metrics_series/ { print $2 }' "$TMP/m.txt")
render=$(awk '$1 ~ /^qrwatch_metrics_render_seconds/ { print $2 }' "$TMP/m.txt")
rss=$(awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$SPID/status")
echo "size $bytes bytes ($((bytes / 1024 / 1024)) MiB), $series series"
echo "GET /metrics, 5 times (s):$times; the last made in $render s"
echo "gzipped: $gzbytes bytes ($(awk -v a="$bytes" -v b="$gzbytes" 'BEGIN { printf "%.1f", a / b }') times smaller), 5 times (s):$gztimes; median $(awk -v a="$(med "$gztimes")" -v b="$(med "$times")" 'BEGIN { printf "%.2f", a / b }') of the plain one's"
echo "qrwatchd's peak resident memory: $rss MiB"
if command -v promtool >/dev/null; then
    if promtool check metrics < "$TMP/m.txt" > "$TMP/lint.txt" 2>&1; then
        echo "promtool check metrics: ok"
    else
        echo "promtool check metrics: $(head -n 3 "$TMP/lint.txt")"
    fi
fi
