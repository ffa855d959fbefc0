#!/bin/sh
# test_overview.sh - the overview of many codes: not OK first and worst
# first, OK codes counted per commune, pages and a commune's list; the page
# kept (ETag, 304, gzip) and drawn again after a verdict change; latency
# graphs kept per (file, period, last update) with ETags, drawn by worker
# processes; old verdict changes deleted past changes_keep, old results
# past results_keep.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-overview-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

# 230 codes in Xã An Bình (two villages), 5 in Phường Bến Thành (a district)
{
printf '[place pa]\nprovince = Tỉnh Bình Dương\ncommune = Xã An Bình\nvillage = Ấp 1\n\n'
printf '[place pa2]\nprovince = Tỉnh Bình Dương\ncommune = Xã An Bình\nvillage = Ấp 2\n\n'
printf '[place pb]\nprovince = Tỉnh Bình Dương\ndistrict = Thành phố Thủ Dầu Một\ncommune = Phường Bến Thành\n\n'
printf '[board ba]\nplace = pa\nlocation = Nhà văn hoá ấp 1\n\n'
printf '[board ba2]\nplace = pa2\nlocation = Nhà văn hoá ấp 2\n\n'
printf '[board bb]\nplace = pb\nlocation = Bộ phận một cửa\n\n'
i=0
while [ $i -lt 230 ]; do
    b=ba; [ $i -ge 200 ] && b=ba2
    printf '[target a%03d]\nboard = %s\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n\n' $i $b
    i=$((i + 1))
done
for i in 0 1 2 3 4; do
    printf '[target b%03d]\nboard = bb\nprocedure = Chứng thực\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n\n' $i
done
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = p1 $TMP/probe.secret
graph_workers = 2
CONF

# the new keys are checked
printf 'changes_keep = 2h\n' | cat "$TMP/qrwatchd.conf" - > "$TMP/bad.conf"
expect_run "changes_keep under a day is refused" 2 "$SERVER" -t -c "$TMP/bad.conf"
expect_contains "and says why" "$ERR" "'changes_keep' must be a duration from 86400 s"
printf 'changes_keep = 0\ngraph_workers = 4\n' | cat "$TMP/qrwatchd.conf" - > "$TMP/ok.conf"
expect_run "changes_keep = 0 keeps them all" 0 "$SERVER" -t -c "$TMP/ok.conf"
printf 'graph_workers = 0\n' | cat "$TMP/qrwatchd.conf" - > "$TMP/bad.conf"
expect_run "graph_workers = 0 is refused" 2 "$SERVER" -t -c "$TMP/bad.conf"
printf 'results_keep = 7d\n' | cat "$TMP/qrwatchd.conf" - > "$TMP/bad.conf"
expect_run "results_keep under a month is refused" 2 "$SERVER" -t -c "$TMP/bad.conf"
expect_contains "and says why" "$ERR" "'results_keep' must be a duration from 2678400 s"
printf 'results_keep = 0\n' | cat "$TMP/qrwatchd.conf" - > "$TMP/ok.conf"
expect_run "results_keep = 0 keeps them all" 0 "$SERVER" -t -c "$TMP/ok.conf"
ROOT="$(dirname "$0")/../.."
for k in graph_workers changes_keep results_keep; do
    if grep -q "^#* *$k = " "$ROOT/dashboard/qrwatchd.conf.sample" && grep -q "| \`$k\` |" "$ROOT/docs/api.md"; then
        pass "$k is in the sample configuration and docs/api.md"
    else
        fail "$k is in the sample configuration and docs/api.md"
    fi
done

start_server() {
    rm -f "$TMP/server.port"
    "$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>>"$TMP/server.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    wait_file "$TMP/server.port"
    S=$(cat "$TMP/server.port")
    URL="http://127.0.0.1:$S"
}
start_server

NOWS=$(date +%s)
CLOCK=$(date -u -d "@$NOWS" +%Y-%m-%dT%H:%M:%SZ)
SEQ=0
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
res() {  # res TARGET VERDICT EPOCH-SECONDS [TOTAL-US]
    printf '{"target":"%s","time":"%s","verdict":"%s","why_vi":"x","why_en":"x","payload":"","failed_step":0,"total_us":%s,"steps":[{"name":"a","status":200,"dns_us":1,"connect_us":2,"tls_us":0,"ttfb_us":3,"transfer_us":4,"total_us":%s}]}' \
        "$1" "$(utc "$3")" "$2" "${4:-1000}" "${4:-1000}"
}
push() {  # push RESULTS-FILE: one batch of the comma-separated results in the file
    SEQ=$((SEQ + 1))
    printf '{"probe":"p1","seq":%s,"clock":"%s","clock_ms":%s,"since_sync_s":0,"uplink":"4g","version":"t","spool":{"dropped":0,"pending_bytes":0},"results":[%s]}' \
        "$SEQ" "$CLOCK" "$((NOWS * 1000))" "$(cat "$1")" > "$TMP/batch.json"
    "$SEND" "$URL/api/v1/ingest" p1 "$SECRET" "$TMP/batch.json"
}

# 5 TAMPERED, 120 DOWN (a124 the longest broken), 105 OK; b000 STALE, b001-b004 OK
T0=$((NOWS - 600))
{
i=0
while [ $i -lt 230 ]; do
    if [ $i -lt 5 ]; then v=TAMPERED; t=$T0
    elif [ $i -lt 125 ]; then v=DOWN; t=$((T0 + 125 - i))
    else v=OK; t=$T0; fi
    [ $i -gt 0 ] && printf ','
    res "a$(printf %03d $i)" $v $t
    i=$((i + 1))
done
for i in 0 1 2 3 4; do
    v=OK; [ $i = 0 ] && v=STALE
    printf ','; res "b00$i" $v $T0
done
} > "$TMP/r1"
expect_contains "235 results taken" "$(push "$TMP/r1")" '"applied":235'

# curl the page: headers in $TMP/h, body in $TMP/b
page() { curl -s -D "$TMP/h" -o "$TMP/b" "$@"; cat "$TMP/b"; }
header() { grep -i "^$1:" "$TMP/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
targets() { grep -o 'data-target="[^"]*"' | sed 's/data-target="//; s/"//' | tr '\n' ' '; }
codes() { sed -n 's/.*<table class="codes">\(.*\)<\/table>.*/\1/p'; }

P1=$(page "$URL/")
expect_contains "the overview counts every code" "$P1" '235 mã: <span class="v TAMPERED">TAMPERED</span> 5 · <span class="v STALE">STALE</span> 1 · <span class="v DOWN">DOWN</span> 120 · <span class="v OK">OK</span> 109</p>'
expect_contains "codes that need attention: 126" "$P1" '<h2 id="attention">Mã cần xử lý (126)</h2>'
ROWS=$(printf '%s' "$P1" | codes | targets)
expect_eq "worst first: TAMPERED, then STALE, then DOWN from the longest broken" \
    "$(printf '%s' "$ROWS" | cut -d' ' -f1-8)" "a000 a001 a002 a003 a004 b000 a124 a123"
expect_eq "a page holds 100 codes" "$(printf '%s' "$ROWS" | wc -w)" "100"
case "$ROWS" in *a125*|*a200*|*b001*) fail "no OK code is listed on the overview" "$ROWS" ;;
    *) pass "no OK code is listed on the overview" ;; esac
expect_contains "the page says where it is" "$P1" "Trang 1 / 2"
expect_contains "and links the next page, without JavaScript" "$P1" '<a rel="next" href="/?page=2">Trang sau ›</a>'
expect_contains "OK codes counted per commune, with a link to its list" "$P1" '<tr data-commune="pa"><td style="padding-left:2em"><a href="/?commune=pa">Xã An Bình</a></td><td></td><td><span class="v TAMPERED">5</span></td><td></td><td></td><td><span class="v DOWN">120</span></td><td></td><td></td><td><span class="v OK">105</span></td><td></td></tr>'
expect_contains "a commune under its district" "$P1" '<td style="padding-left:2em">Thành phố Thủ Dầu Một</td>'
expect_contains "and its counts" "$P1" '<a href="/?commune=pb">Phường Bến Thành</a></td><td></td><td></td><td><span class="v STALE">1</span></td><td></td><td></td><td></td><td></td><td><span class="v OK">4</span></td>'
expect_contains "the province sums its communes" "$P1" '<td style="padding-left:0em">Tỉnh Bình Dương</td><td></td><td><span class="v TAMPERED">5</span></td><td><span class="v STALE">1</span></td><td></td><td><span class="v DOWN">120</span></td><td></td><td></td><td><span class="v OK">109</span></td>'
expect_contains "the changes of the day on the first page" "$P1" '<h2 id="changes">Thay đổi trong 24 giờ</h2>'

P2=$(page "$URL/?page=2")
ROWS=$(printf '%s' "$P2" | codes | targets)
expect_eq "page 2: the last 26 codes" "$(printf '%s' "$ROWS" | wc -w)" "26"
expect_eq "page 2 goes on where page 1 stopped" "$(printf '%s' "$ROWS" | cut -d' ' -f1)" "a030"
expect_contains "page 2 links back" "$P2" '<a rel="prev" href="/">‹ Trang trước</a>'
case "$P2" in *'id="communes"'*|*'id="changes"'*) fail "later pages hold only the list" ;;
    *) pass "later pages hold only the list" ;; esac
expect_eq "a page past the end shows the last" "$(page "$URL/?page=9" | codes | targets | wc -w)" "26"
expect_eq "page 0 is page 1" "$(page "$URL/?page=0" | codes | targets | cut -d' ' -f1)" "a000"

PE=$(page "$URL/?page=2&lang=en")
expect_contains "English, the same words from the catalog" "$PE" '<h2 id="attention">Codes that need attention (126)</h2>'
expect_contains "English links keep the language" "$PE" '<a rel="prev" href="/?lang=en">‹ Previous</a>'
expect_contains "the language switch keeps the page" "$PE" 'href="/?page=2&amp;">Tiếng Việt</a>'

# one commune: every code, OK ones too, worst first, paged
PC=$(page "$URL/?commune=pa")
expect_contains "a commune's page is titled with it" "$PC" '<h1>Xã An Bình, Tỉnh Bình Dương</h1>'
expect_contains "and counts its codes" "$PC" '230 mã:'
expect_contains "in 3 pages" "$PC" 'Trang 1 / 3'
ROWS=$(page "$URL/?commune=pa&page=3" | codes | targets)
expect_eq "its last page: the OK codes" "$(printf '%s' "$ROWS" | wc -w)/$(printf '%s' "$ROWS" | cut -d' ' -f1)" "30/a200"
expect_contains "its pages link on" "$PC" '<a rel="next" href="/?commune=pa&amp;page=2">'
expect_eq "any place of the commune names it" "$(page "$URL/?commune=pa2" | grep -o '<h1>[^<]*</h1>')" "<h1>Xã An Bình, Tỉnh Bình Dương</h1>"
expect_eq "an unknown commune: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/?commune=nope")" "404"
expect_eq "a commune id is escaped" "$(curl -s "$URL/?commune=%3Cb%3E" | grep -c '<b>')" "0"

# kept: the same ETag, 304 for it, gzip for those who take it
page "$URL/" >/dev/null
E1=$(header ETag)
expect_eq "the overview has an ETag" "$([ -n "$E1" ] && echo yes)" "yes"
expect_eq "it may be kept but is asked about" "$(header Cache-Control)" "private, no-cache"
expect_eq "served again as it was kept" "$(page "$URL/" >/dev/null; header ETag)" "$E1"
expect_eq "If-None-Match with it: 304, no body" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "If-None-Match: $E1" "$URL/")" "304 0"
expect_eq "a weak or listed tag matches too" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"x\", W/$E1" "$URL/")" "304"
expect_eq "another tag: the page" "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "o0000000000000000"' "$URL/")" "200"
expect_eq "no gzip unless asked" "$(header Content-Encoding)" ""
cp "$TMP/b" "$TMP/plain.html"
curl -s -D "$TMP/h" -o "$TMP/b.gz" -H 'Accept-Encoding: gzip, deflate' "$URL/"
expect_eq "gzip when the client takes it" "$(header Content-Encoding)" "gzip"
expect_eq "it varies by Accept-Encoding" "$(header Vary)" "Accept-Encoding"
EG=$(header ETag)
expect_eq "the gzipped page has its own ETag" "$([ -n "$EG" ] && [ "$EG" != "$E1" ] && echo yes)" "yes"
expect_eq "it decodes to the same page" "$(gzip -dc < "$TMP/b.gz" | cmp -s - "$TMP/plain.html" && echo same)" "same"
expect_eq "and is smaller" "$([ "$(wc -c < "$TMP/b.gz")" -lt "$(wc -c < "$TMP/plain.html")" ] && echo yes)" "yes"
expect_eq "gzip;q=0 refuses it" "$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0' "$URL/" | grep -ci '^content-encoding')" "0"
expect_eq "304 for the gzipped ETag" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $EG" "$URL/")" "304"

# a result that changes no verdict leaves the page as it is
T1=$((NOWS - 300))
res a125 OK $T1 > "$TMP/r2"
expect_contains "an OK code checked again" "$(push "$TMP/r2")" '"applied":1'
expect_eq "no verdict changed: the same page" "$(page "$URL/" >/dev/null; header ETag)" "$E1"
# a verdict change draws it again
res a125 HANG $((T1 + 1)) > "$TMP/r3"
expect_contains "a verdict changes" "$(push "$TMP/r3")" '"applied":1'
P3=$(page "$URL/")
E2=$(header ETag)
expect_eq "after a verdict change: a new ETag" "$([ -n "$E2" ] && [ "$E2" != "$E1" ] && echo yes)" "yes"
expect_contains "and the page lists it" "$P3" '<h2 id="attention">Mã cần xử lý (127)</h2>'
expect_eq "where HANG goes: after STALE, before DOWN" "$(printf '%s' "$P3" | codes | targets | cut -d' ' -f6-8)" "b000 a125 a124"
expect_eq "the old ETag now gets the page" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $E1" "$URL/")" "200"
expect_eq "a commune's page follows too" "$(page "$URL/?commune=pa" | grep -c 'data-target="a125"><td><span class="v HANG">')" "1"
# an incident opened without a verdict change (the third DOWN in a row) shows within 2 s
{ res a201 DOWN $((T1 + 10)); printf ','; res a201 DOWN $((T1 + 11)); printf ','; res a201 DOWN $((T1 + 12)); } > "$TMP/r5"
page "$URL/" >/dev/null
expect_contains "three DOWN in a row" "$(push "$TMP/r5")" '"applied":3'
i=0
until page "$URL/" | grep -q 'data-kind="target" data-target="a201"' || [ $i -ge 40 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "its incident is on the overview within 2 s" "$(page "$URL/" | grep -c 'data-kind="target" data-target="a201"')" "1"

# graphs: drawn once per (file, period, last update), with an ETag
G="$URL/graph/p1/a000/day.png"
i=0; while [ ! -e "$TMP/data/rrd/p1/a000.rrd" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait_rrd "$TMP/data" "$TMP/data/rrd/p1/a000.rrd"
expect_eq "a graph" "$(curl -s -D "$TMP/h" -o "$TMP/g1.png" -w '%{http_code} %{content_type}' "$G")" "200 image/png"
GE1=$(header ETag)
expect_eq "with an ETag" "$([ -n "$GE1" ] && echo yes)" "yes"
expect_eq "a PNG" "$(head -c 4 "$TMP/g1.png" | od -An -c | tr -d ' ')" "211PNG"
expect_eq "asked again: the one kept" "$(curl -s -D "$TMP/h" -o "$TMP/g2.png" "$G"; header ETag)" "$GE1"
expect_eq "the same bytes" "$(cmp -s "$TMP/g1.png" "$TMP/g2.png" && echo same)" "same"
expect_eq "If-None-Match: 304, no body" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "If-None-Match: $GE1" "$G")" "304 0"
expect_eq "another period is another graph" "$(curl -s -D "$TMP/h" -o /dev/null -w '%{http_code}' "$URL/graph/p1/a000/week.png"; [ "$(header ETag)" != "$GE1" ] && echo ' other')" "200 other"
# new results for the file: a new graph
: > "$TMP/r4"
for k in 4 3 2 1; do
    [ -s "$TMP/r4" ] && printf ',' >> "$TMP/r4"
    res a000 TAMPERED $((NOWS - k * 60)) 900000000 >> "$TMP/r4"
done
expect_contains "four slow results for the graph's code" "$(push "$TMP/r4")" '"applied":4'
i=0
while [ "$(rrd_last "$TMP/data" "$TMP/data/rrd/p1/a000.rrd")" != "$((NOWS - 60))" ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "a new update: a new ETag" "$(curl -s -D "$TMP/h" -o "$TMP/g3.png" "$G"; [ "$(header ETag)" != "$GE1" ] && echo new)" "new"
expect_eq "and a new picture" "$(cmp -s "$TMP/g1.png" "$TMP/g3.png" && echo same || echo different)" "different"
expect_eq "the old ETag gets the new graph" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $GE1" "$G")" "200"
# drawn in worker processes, several at once, and one that dies is replaced
CURLS=""
for t in a001 a002 a003 a004 a005 a006; do
    curl -s -o "$TMP/par-$t.png" -w '%{http_code}\n' "$URL/graph/p1/$t/day.png" > "$TMP/par-$t.code" &
    CURLS="$CURLS $!"
done
# shellcheck disable=SC2086
wait $CURLS
n=0
for t in a001 a002 a003 a004 a005 a006; do
    [ "$(cat "$TMP/par-$t.code")" = 200 ] && [ "$(head -c 4 "$TMP/par-$t.png" | od -An -c | tr -d ' ')" = 211PNG ] && n=$((n + 1))
done
expect_eq "six graphs asked at once: six PNGs" "$n" "6"
WORKERS=$(pgrep -P "$SPID" -f -- --graph-worker | tr '\n' ' ')
expect_eq "drawn by graph_workers processes" "$(printf '%s' "$WORKERS" | wc -w)" "2"
# shellcheck disable=SC2086
kill -9 $WORKERS
echo "killed graph workers $WORKERS" >> "$TMP/server.log"
expect_eq "after the workers died: graphs still drawn" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/graph/p1/a007/day.png")" "200"
expect_contains "and the log says so" "$(cat "$TMP/server.log")" "starting another"
expect_eq "an unknown graph: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/graph/p1/zzz/day.png")" "404"

# retention: verdict changes older than changes_keep go, in small deletes
kill "$SPID"; wait "$SPID"
expect_eq "the server stopped cleanly" "$?" "0"
expect_eq "its graph workers with it" "$(pgrep -f -- "--graph-worker" | grep -c -x -F "$(printf '%s\n' $WORKERS)")" "0"
OLD=$(( (NOWS - 40 * 86400) * 1000 ))
# wait_log PATTERN: until the server's log has it (10 s); a prune pass logs
# when it is over, its deletes done
wait_log() {
    i=0
    while ! grep -q "$1" "$TMP/server.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
    INSERT INTO verdict_changes (probe, target, time_ms, old, new) SELECT 'p1', 'a000', $OLD - i, 'OK', 'DOWN' FROM n"
before=$(db "SELECT count(*) FROM verdict_changes WHERE time_ms > $(( (NOWS - 86400) * 1000 ))")
printf 'changes_keep = 30d\n' >> "$TMP/qrwatchd.conf"
start_server
wait_log "deleted [0-9]* verdict changes"
expect_eq "1200 changes older than changes_keep deleted" "$(db "SELECT count(*) FROM verdict_changes WHERE time_ms <= $OLD")" "0"
expect_eq "the recent ones kept" "$(db "SELECT count(*) FROM verdict_changes WHERE time_ms > $(( (NOWS - 86400) * 1000 ))")" "$before"
expect_contains "and the log says so" "$(cat "$TMP/server.log")" "deleted 1200 verdict changes older than changes_keep (30 days)"
expect_eq "the overview is drawn after it" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")" "200"
kill "$SPID"; wait "$SPID"
expect_eq "stopped cleanly again" "$?" "0"

# retention: results older than results_keep go, in the order they
# arrived; 1200 old ones put before the rest (lower ids), as a server
# that has run for a season has them
cols=$(db "SELECT group_concat(name, ', ') FROM pragma_table_info('results')")
sel=$(printf '%s' "$cols" | sed "s/^id,/(SELECT min(id) FROM results) - i,/; s/ time_ms,/ $OLD - i * 1000,/; s/ probe_time,/ strftime('%Y-%m-%dT%H:%M:%SZ', ($OLD \/ 1000) - i, 'unixepoch'),/")
db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
    INSERT INTO results ($cols) SELECT $sel FROM n, (SELECT * FROM results ORDER BY id LIMIT 1)"
expect_eq "1200 old results in place" "$(db "SELECT count(*) FROM results WHERE time_ms <= $OLD")" "1200"
recent=$(db "SELECT count(*) FROM results WHERE time_ms > $OLD")
printf 'results_keep = 31d\n' >> "$TMP/qrwatchd.conf"
start_server
wait_log "deleted [0-9]* results"
expect_eq "1200 results older than results_keep deleted" "$(db "SELECT count(*) FROM results WHERE time_ms <= $OLD")" "0"
expect_eq "the recent ones kept" "$(db "SELECT count(*) FROM results WHERE time_ms > $OLD")" "$recent"
expect_contains "and the log says so" "$(cat "$TMP/server.log")" "deleted 1200 results older than results_keep (31 days)"
expect_eq "a target page is drawn after it" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/target/a000")" "200"
kill "$SPID"; wait "$SPID"
expect_eq "stopped cleanly once more" "$?" "0"

finish
