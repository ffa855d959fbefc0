#!/bin/sh
# test_server.sh - qrwatchd: config checks, the real probe pushing to it,
# RRD contents read back with rrdtool, SQLite state, and every kind of bad
# batch refused with its reason and nothing applied.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
SEND="$QRW_BUILD/tests/sendbatch"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-server-tests
wait_file() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

mkdir -p "$TMP/snaps"
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")
B="http://portal.test:$P"
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for t in ks kt gone; do
    case $t in gone) path=gone ;; *) path=dvc/khai-sinh ;; esac
    "$QRW_BUILD/qrwatch" encode -o "$TMP/$t.png" "$B/$path" >/dev/null
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$TMP/$t.png"
    printf 'payload = %s\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n' "$B/$path"
done
# the stale one's procedure, found on the portal by its code
printf 'procedure_code = 1.004227\nlookup = tim-theo-ma\n'
printf '\n[flow tim-theo-ma]\nname = Tìm theo mã thủ tục\n[step]\nname = Tìm\n'
printf 'url = %s/tim-kiem?ma={code}\ncapture = next body href="(/dvc/thu-tuc/[^"]+)"\n' "$B"
printf '[step]\nname = Trang tìm được\nurl = {next}\n'
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
max_body_kb = 256
lookup_every = 3
lookup_resolve = portal.test:$P:127.0.0.1
CONF

expect_run "qrwatchd -t" 0 "$SERVER" -t -c "$TMP/qrwatchd.conf"
expect_contains "qrwatchd -t says ok" "$OUT" "ok: 1 probes, 3 targets"
printf 'listen = localhost\nthreds = 2\nprobe = x /nonexistent\n' > "$TMP/bad.conf"
expect_run "qrwatchd -t on a bad config" 2 "$SERVER" -t -c "$TMP/bad.conf"
expect_contains "listen named" "$ERR" "bad.conf:1: listen must be ADDRESS:PORT"
expect_contains "did-you-mean" "$ERR" "bad.conf:2: unknown key 'threds' (did you mean 'threads'?)"
expect_contains "secret file named" "$ERR" "bad.conf:3: cannot open '/nonexistent'"
printf 'lookup_resolve = portal.test\nlookup_every = 5 minutes\n' > "$TMP/badlookup.conf"
expect_run "qrwatchd -t on bad lookup keys" 2 "$SERVER" -t -c "$TMP/badlookup.conf"
expect_contains "lookup_resolve named" "$ERR" "badlookup.conf:1: lookup_resolve must be HOST:PORT:ADDRESS, got 'portal.test'"
expect_contains "lookup_every named" "$ERR" "badlookup.conf:2: 'lookup_every' must be a duration from 1 s to 604800 s"
# a log_level qrwatchd cannot use is refused, not logged at a level left unset
# (found by a fuzzer)
{ grep -v '^$' "$TMP/qrwatchd.conf"; printf 'log_level = verbose\n'; } > "$TMP/level.conf"
expect_run "qrwatchd -t with an unknown log_level" 2 "$SERVER" -t -c "$TMP/level.conf"
expect_contains "log_level named" "$ERR" "level.conf:8: log_level must be error, warn, info or debug, got 'verbose'"

"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>"$TMP/server.log" &
SPID=$!
PIDS="$PIDS $SPID"
wait_file "$TMP/server.port"
S=$(cat "$TMP/server.port")
URL="http://127.0.0.1:$S/api/v1/ingest"

# the real probe pushes its results
cat > "$TMP/probe.conf" <<CONF
probe_id = thon-dong-1
secret_file = $TMP/probe.secret
server = $URL
catalog = $TMP/c.catalog
uplink = 5g
spool_dir = $TMP/spool
resolve = portal.test:$P:127.0.0.1
push_interval = 1
first_push_delay_max = 0
flush_every = 1
CONF
"$PROBE" run -c "$TMP/probe.conf" 2>"$TMP/probe.log" &
DPID=$!
PIDS="$PIDS $DPID"
i=0
while [ "$(db 'SELECT count(*) FROM results' 2>/dev/null || echo 0)" -lt 3 ] && [ $i -lt 150 ]; do
    sleep 0.1; i=$((i + 1))
done
kill "$DPID"
wait "$DPID"
expect_eq "three results stored" "$(db 'SELECT count(*) FROM results')" "3"
expect_eq "verdicts stored" "$(db "SELECT target || '=' || verdict FROM latest ORDER BY target" | tr '\n' ' ')" "gone=STALE ks=OK kt=OK "
expect_eq "probe known with its uplink" "$(db "SELECT uplink FROM probes WHERE id = 'thon-dong-1'")" "5g"
expect_eq "the batch numbers were recorded" "$(db "SELECT last_seq > 0 FROM probes")" "1"
# the files are made in the background, then written from the database
n=0
for t in ks kt gone; do wait_rrd "$TMP/data" "$TMP/data/rrd/thon-dong-1/$t.rrd" && n=$((n + 1)); done
expect_eq "all results in the RRD files" "$n" "3"
expect_eq "the server runs its own rrdcached" "$([ -S "$TMP/data/rrdcached.sock" ] && echo yes)" "yes"
RRD="$TMP/data/rrd/thon-dong-1/ks.rrd"
expect_run "rrdtool info reads the file" 0 rrd "$TMP/data" info "$RRD"
expect_contains "RRD has the availability source" "$OUT" 'ds[avail].type = "GAUGE"'
expect_contains "RRD keeps one-minute detail for a week" "$OUT" 'rra[0].rows = 10080'
expect_contains "RRD keeps daily values for five years" "$OUT" 'rra[6].pdp_per_row = 1440'
expect_contains "RRD keeps hourly values for 90 days" "$OUT" 'rra[1].rows = 2160'
expect_contains "RRD has MAX archives" "$OUT" 'rra[3].cf = "MAX"'
expect_run "rrdtool lastupdate" 0 rrd "$TMP/data" lastupdate "$RRD"
expect_contains "last update holds availability 1 and status 200" "$OUT" ": 1 "
gone_last=$(rrd "$TMP/data" lastupdate "$TMP/data/rrd/thon-dong-1/gone.rrd" | tail -n 1)
expect_contains "the stale target is unavailable with status 404" "$gone_last" " 0 "
expect_contains "the stale target's status is 404" "$gone_last" " 404"

# the probe fetches its catalog from the server: signed, with an ETag
sed -e "s|^catalog = .*|catalog = $TMP/cache.catalog|" "$TMP/probe.conf" > "$TMP/fetch.conf"
printf 'catalog_url = http://127.0.0.1:%s/api/v1/probes/thon-dong-1/catalog\ncatalog_refresh = 1\n' "$S" >> "$TMP/fetch.conf"
"$PROBE" run -c "$TMP/fetch.conf" 2>"$TMP/fetch.log" &
DPID=$!
PIDS="$PIDS $DPID"
sleep 2.5
kill "$DPID"
wait "$DPID"
expect_contains "probe got its catalog from qrwatchd" "$(cat "$TMP/fetch.log")" "new catalog from the server"
expect_eq "and cached it" "$(cmp -s "$TMP/cache.catalog" "$TMP/c.catalog" && echo same)" "same"
expect_eq "refreshes answered 304" "$(grep -c 'new catalog' "$TMP/fetch.log")" "1"
# a probe with the wrong secret gets no catalog
sed -e "s|^secret_file = .*|secret = not-the-right-secret-at-all|; s|cache.catalog|cache2.catalog|" "$TMP/fetch.conf" > "$TMP/fetch2.conf"
"$PROBE" run -c "$TMP/fetch2.conf" 2>"$TMP/fetch2.log" &
DPID=$!
PIDS="$PIDS $DPID"
sleep 1.5
kill "$DPID"
wait "$DPID"
expect_contains "a wrongly signed catalog request is refused" "$(cat "$TMP/fetch2.log")" "server answered HTTP 401"

# a result the server will never take (its catalog lacks the target) is set
# aside with the server's reason, and the rest of the spool still arrives
{ cat "$TMP/c.catalog"; printf '\n[target extra]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/ks.png"
  printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n'; } > "$TMP/extra.catalog"
sed -e "s|^catalog = .*|catalog = $TMP/extra.catalog|" "$TMP/probe.conf" > "$TMP/extra.conf"
before_ks=$(db "SELECT count(*) FROM results WHERE target = 'ks'")
"$PROBE" run -c "$TMP/extra.conf" 2>"$TMP/extra.log" &
DPID=$!
PIDS="$PIDS $DPID"
i=0
while { [ ! -s "$TMP/spool/refused.jsonl" ] || [ "$(db "SELECT count(*) FROM results WHERE target = 'ks'")" -le "$before_ks" ]; } && [ $i -lt 200 ]; do
    sleep 0.1; i=$((i + 1))
done
kill "$DPID"
wait "$DPID"
expect_contains "a refused result is set aside" "$(cat "$TMP/spool/refused.jsonl" 2>/dev/null)" '"target":"extra"'
expect_contains "with the server's reason" "$(cat "$TMP/spool/refused.jsonl" 2>/dev/null)" "unknown target 'extra'"
expect_contains "and the probe says so" "$(cat "$TMP/extra.log")" "set aside in"
expect_eq "the other results still arrived" "$([ "$(db "SELECT count(*) FROM results WHERE target = 'ks'")" -gt "$before_ks" ] && echo yes)" "yes"
expect_eq "and nothing cached" "$(test -e "$TMP/cache2.catalog" && echo yes || echo no)" "no"

# a batch built by hand: one result, and what bad copies of it do
NOWS=$(date +%s)
NOW=$(date -u -d "@$NOWS" +%Y-%m-%dT%H:%M:%S.000Z)
CLOCK=$(date -u -d "@$NOWS" +%Y-%m-%dT%H:%M:%SZ)
NOWMS=$((NOWS * 1000))
batch() {  # batch SEQ RESULT-JSON...
    seq=$1
    shift
    printf '{"probe":"thon-dong-1","seq":%s,"clock":"%s","clock_ms":%s,"since_sync_s":0,"uplink":"5g","version":"t","spool":{"dropped":0,"pending_bytes":0},"results":[%s]}' \
        "$seq" "$CLOCK" "$NOWMS" "$(IFS=,; echo "$*")"
}
R1='{"target":"kt","time":"'"$NOW"'","verdict":"DOWN","why_vi":"x","why_en":"x","payload":"","failed_step":0,"total_us":1000,"steps":[{"name":"a","status":503,"dns_us":1,"connect_us":2,"tls_us":0,"ttfb_us":3,"transfer_us":4,"total_us":10}]}'
count() { db 'SELECT count(*) FROM results'; }
before=$(count)

send() {  # send NAME WANT-STATUS WANT-TEXT BODY [mode]
    printf '%s' "$4" > "$TMP/body.json"
    got=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/body.json" ${5:-})
    expect_contains "$1: HTTP $2" "$got" "$2 "
    expect_contains "$1: says why" "$got" "$3"
}
send "forged signature" 401 "signature does not match" "$(batch 1000 "$R1")" badsig
send "unsigned" 401 "missing or malformed X-Qrwatch-Signature" "$(batch 1000 "$R1")" unsigned
send "truncated" 400 "body is not a JSON object" "$(batch 1000 "$R1" | head -c 150)"
send "not JSON" 400 "body is not a JSON object" "hello"
send "missing seq" 422 "seq: missing" '{"probe":"thon-dong-1","clock_ms":'"$NOWMS"',"results":[]}'
send "bad verdict" 422 "results[0].verdict: unknown verdict 'BROKEN'" "$(batch 1000 "$(printf '%s' "$R1" | sed 's/"DOWN"/"BROKEN"/')")"
send "unknown target" 422 "results[0].target: unknown target 'nope'" "$(batch 1000 "$(printf '%s' "$R1" | sed 's/"kt"/"nope"/')")"
send "bad time" 422 "results[0].time: 'yesterday' is not a UTC time" "$(batch 1000 "$(printf '%s' "$R1" | sed "s/\"$NOW\"/\"yesterday\"/")")"
send "future" 422 "results[0].time: dated" "$(batch 1000 "$(printf '%s' "$R1" | sed "s/\"$NOW\"/\"2099-01-01T00:00:00.000Z\"/")")"
send "negative phase" 422 "results[0].steps[0].dns_us: -5 is out of range" "$(batch 1000 "$(printf '%s' "$R1" | sed 's/"dns_us":1/"dns_us":-5/')")"
send "wrong type" 422 "results[0].steps: must be an array" "$(batch 1000 "$(printf '%s' "$R1" | sed 's/"steps":\[.*\]}$/"steps":7}/')")"
send "other probe in body" 400 "probe: 'other' does not match" "$(batch 1000 "$R1" | sed 's/"probe":"thon-dong-1"/"probe":"other"/')"
# a valid result after a bad one: the whole batch is refused, nothing applied
send "bad second result" 422 "results[1].verdict" "$(batch 1000 "$R1" "$(printf '%s' "$R1" | sed 's/"DOWN"/"MAYBE"/; s/"kt"/"ks"/')")"
head -c 300000 /dev/zero | tr '\0' 'x' > "$TMP/big.txt"
printf '{"probe":"thon-dong-1","pad":"%s"}' "$(cat "$TMP/big.txt")" > "$TMP/big.json"
got=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/big.json")
expect_contains "oversized: HTTP 413" "$got" "413 "
expect_contains "oversized: says the limit" "$got" "over the limit of 262144 bytes"
expect_eq "nothing applied from any rejected batch" "$(count)" "$before"
expect_eq "no batch number taken by a rejected batch" "$(db 'SELECT last_seq < 1000 FROM probes')" "1"

# a good batch, then the same batch again (a replay): applied once
send "good batch" 200 '"ack":1000' "$(batch 1000 "$R1")"
expect_eq "good batch applied" "$(count)" "$((before + 1))"
send "replayed batch" 200 '"duplicate":true' "$(batch 1000 "$R1")"
expect_eq "replay not applied twice" "$(count)" "$((before + 1))"
expect_eq "verdict change recorded" "$(db "SELECT new FROM verdict_changes WHERE target = 'kt' ORDER BY time_ms DESC LIMIT 1")" "DOWN"
# an older result than the RRD's last update: kept in SQLite, counted, not in the RRD
OLD=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
R_OLD=$(printf '%s' "$R1" | sed "s/\"$NOW\"/\"$OLD\"/")
kt_last=$(rrd_last "$TMP/data" "$TMP/data/rrd/thon-dong-1/kt.rrd")
send "late result" 200 '"rrd_refused":1' "$(batch 1001 "$R_OLD")"
expect_eq "late result kept in SQLite" "$(db "SELECT count(*) FROM results WHERE probe_time = '$OLD'")" "1"
expect_eq "late result not in the RRD file" "$(rrd_last "$TMP/data" "$TMP/data/rrd/thon-dong-1/kt.rrd")" "$kt_last"

# a probe whose spool was made anew (a power cut on a RAM spool) numbers its
# batches from 1 again under a new epoch: those results are stored, not
# thrown away as replays of the old numbers
EP1=0123456789abcdef
EP2=fedcba9876543210
ebatch() {  # ebatch EPOCH SEQ RESULT-JSON...
    ep=$1
    shift
    batch "$@" | sed "s/^{\"probe\":\"thon-dong-1\",/{\"probe\":\"thon-dong-1\",\"epoch\":\"$ep\",/"
}
rtime() {  # rtime MS-SUFFIX: the result R1 at another millisecond of NOW
    printf '%s' "$R1" | sed "s/\"time\":\"[^\"]*\"/\"time\":\"${NOW%.*}.$1Z\"/"
}
before_ep=$(count)
send "first batch of an epoch" 200 '"ack":5,"applied":1' "$(ebatch $EP1 5 "$(rtime 101)")"
send "the same batch again" 200 '"duplicate":true' "$(ebatch $EP1 5 "$(rtime 101)")"
send "an older number of the same epoch" 200 '"duplicate":true' "$(ebatch $EP1 4 "$(rtime 102)")"
# a resend of a number may hold more results (the probe builds it again from
# its spool): the new ones are kept, the old ones not doubled
send "a resend with one more result" 200 '"ack":5,"applied":1,' "$(ebatch $EP1 5 "$(rtime 101)" "$(rtime 107)")"
got=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/body.json")
expect_contains "the same resend again: nothing applied" "$got" '"applied":0,'
expect_contains "and called a duplicate" "$got" '"duplicate":true'
send "a new epoch from batch 1" 200 '"ack":1,"applied":1' "$(ebatch $EP2 1 "$(rtime 103)")"
send "its second batch" 200 '"ack":2,"applied":1' "$(ebatch $EP2 2 "$(rtime 104)")"
send "a replay of the old epoch" 200 '"duplicate":true' "$(ebatch $EP1 5 "$(rtime 101)")"
expect_eq "every result stored once" "$(count)" "$((before_ep + 5))"
expect_eq "both epochs known" "$(db "SELECT group_concat(epoch || ':' || last_seq, ' ') FROM (SELECT * FROM probe_epochs WHERE epoch IN ('$EP1', '$EP2') ORDER BY epoch)")" "$EP1:5 $EP2:2"
expect_eq "the probe's newest epoch" "$(db "SELECT epoch FROM probes")" "$EP2"
expect_contains "the log says the spool was made anew" "$(cat "$TMP/server.log")" "probe 'thon-dong-1' sends from a new spool (epoch $EP2, from batch 1); its previous spool (epoch $EP1, last batch 5) is gone"
# out-of-range numbers are refused, never saturated to the largest one
send "seq above 2^53" 422 "seq: 9007199254740992 is out of range" "$(ebatch $EP2 9007199254740992 "$(rtime 105)")"
send "seq past int64" 422 "seq: a number above 9223372036854775807 is out of range" "$(ebatch $EP2 99999999999999999999 "$(rtime 105)")"
send "negative seq" 422 "seq: -3 is out of range" "$(ebatch $EP2 -3 "$(rtime 105)")"
send "bad epoch" 422 "epoch: 'XYZ' is not 16 lower-case hex digits" "$(ebatch XYZ 3 "$(rtime 105)")"
expect_eq "no batch number taken by the refused ones" "$(db "SELECT last_seq FROM probe_epochs WHERE epoch = '$EP2'")" "2"
# JSON is parsed strictly, and dates must exist
GOOD=$(ebatch $EP2 3 "$(rtime 106)")
send "trailing garbage" 400 "body is not a JSON object" "$GOOD x"
send "trailing braces" 400 "body is not a JSON object" "$GOOD}"
printf '%s\0{"junk":1}' "$GOOD" > "$TMP/nul.json"
got=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/nul.json")
expect_contains "bytes after a NUL: HTTP 400" "$got" "400 "
send "a comment" 400 "body is not a JSON object" "$(printf '%s' "$GOOD" | sed 's|"results":|/* x */"results":|')"
send "single quotes" 400 "single-quoted string" "$(printf '%s' "$GOOD" | sed "s|\"version\":\"t\"|'version':'t'|")"
printf '%s' "$GOOD" | sed 's/"why_vi":"x"/"why_vi":"\xff\xfe"/' > "$TMP/utf8.json"
got=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/utf8.json")
expect_contains "invalid UTF-8: HTTP 400" "$got" "400 "
expect_contains "invalid UTF-8: says why" "$got" "invalid utf-8"
send "lone surrogate" 400 'lone high surrogate \\ud800' "$(printf '%s' "$GOOD" | sed 's/"why_vi":"x"/"why_vi":"\\ud800"/')"
send "NUL in a string" 400 'strings may not hold NUL' "$(printf '%s' "$GOOD" | sed 's/"why_vi":"x"/"why_vi":"a\\u0000b"/')"
send "clock not a time" 422 "clock: 'x' is not a UTC time" "$(printf '%s' "$GOOD" | sed 's/"clock":"[^"]*"/"clock":"x"/')"
send "clock not clock_ms" 422 "is not the moment of clock_ms" "$(printf '%s' "$GOOD" | sed 's/"clock":"[^"]*"/"clock":"2026-01-01T00:00:00Z"/')"
send "a date that does not exist" 422 "results[0].time: '2026-02-30T10:00:00.000Z' is not a UTC time" "$(printf '%s' "$GOOD" | sed 's/"time":"[^"]*"/"time":"2026-02-30T10:00:00.000Z"/')"
send "an unknown uplink" 422 "uplink: '6g' is not one of: fibre 5g 4g" "$(printf '%s' "$GOOD" | sed 's/"uplink":"5g"/"uplink":"6g"/')"
send "an unknown result uplink" 422 "results[0].uplink: 'lte' is not one of" "$(ebatch $EP2 3 "$(rtime 106 | sed 's/"verdict"/"uplink":"lte","verdict"/')")"
send "the good batch after all that" 200 '"ack":3,"applied":1' "$GOOD"

# the dashboard: pages, API, CSV, metrics, graphs and posters
get() { curl -s -o "$TMP/got" -w '%{http_code} %{content_type}' "http://127.0.0.1:$S$1"; }
expect_eq "overview page" "$(get /)" "200 text/html; charset=utf-8"
expect_contains "overview has the province in its tree" "$(cat "$TMP/got")" '<td style="padding-left:0em">Tỉnh Bắc Ninh</td>'
expect_contains "and the commune under it, linking to its list" "$(cat "$TMP/got")" '<td style="padding-left:2em"><a href="/?commune=p">Xã Tân An</a></td>'
expect_contains "overview names the place of each target" "$(cat "$TMP/got")" "Xã Tân An, Tỉnh Bắc Ninh"
expect_contains "overview is Vietnamese" "$(cat "$TMP/got")" "Thay đổi trong 24 giờ"
expect_contains "overview lists the stale target" "$(cat "$TMP/got")" 'class="v STALE"'
expect_eq "overview in English" "$(get '/?lang=en' | cut -d' ' -f1)" "200"
expect_contains "English switch" "$(cat "$TMP/got")" "Changes in the last 24 hours"
expect_eq "target page" "$(get /target/ks | cut -d' ' -f1)" "200"
expect_contains "target page shows the waterfall" "$(cat "$TMP/got")" 'class="bar'
expect_contains "target page links the graphs" "$(cat "$TMP/got")" '/graph/thon-dong-1/ks/day.png'
expect_contains "target page shows availability" "$(cat "$TMP/got")" "24 giờ: 100.0%"
expect_contains "target page compares uplinks" "$(cat "$TMP/got")" "<tr><td>5g</td><td>"
expect_eq "unknown target page" "$(get /target/nope | cut -d' ' -f1)" "404"
expect_eq "graph" "$(get /graph/thon-dong-1/ks/week.png)" "200 image/png"
expect_eq "graph is a PNG" "$(head -c 4 "$TMP/got" | od -An -c | tr -d ' ')" "211PNG"
expect_eq "graph of a path outside the data" "$(get '/graph/..%2F..%2Fetc/passwd/day.png' | cut -d' ' -f1)" "404"
expect_eq "stale codes page" "$(get /stale | cut -d' ' -f1)" "200"
expect_contains "the stale page shows the broken address" "$(cat "$TMP/got")" "Địa chỉ đã hỏng: <code>http://portal.test:$P/gone</code>"
expect_contains "and says not to print it again" "$(cat "$TMP/got")" "Không in lại mã này: địa chỉ trong mã không còn dẫn tới thủ tục"
expect_eq "and offers no poster of it" "$(grep -c '/poster/gone' "$TMP/got")" "0"
# its new address, looked up on the portal by its code and checked, is shown beside it
i=0
while ! grep -q 'class="candidate"' "$TMP/got" && [ $i -lt 40 ]; do sleep 0.5; get /stale > /dev/null; i=$((i + 1)); done
expect_contains "the stale page shows the new address found on the portal" "$(cat "$TMP/got")" \
    "Địa chỉ mới tìm được trên cổng dịch vụ công (mã thủ tục 1.004227): <code>http://portal.test:$P/dvc/thu-tuc/xac-nhan-cu-tru</code>. Đã đi thử như người dân quét mã: hoạt động, lúc"
expect_contains "to be confirmed before it is printed" "$(cat "$TMP/got")" "Chưa in: địa chỉ này cần được cán bộ xác nhận"
expect_eq "and still no poster of the stale code" "$(grep -c '/poster/gone' "$TMP/got")" "0"
expect_contains "the log names it" "$(cat "$TMP/server.log")" "target 'gone': a new address found on its portal and checked OK: http://portal.test:$P/dvc/thu-tuc/xac-nhan-cu-tru (to be confirmed)"
expect_eq "no poster of a STALE address, even asked for" "$(get /poster/gone.svg | cut -d' ' -f1)" "409"
expect_contains "and the refusal says why" "$(cat "$TMP/got")" "no poster for 'gone': its address has not been checked working"
expect_eq "a poster of an address checked OK" "$(get /poster/ks.svg)" "200 image/svg+xml"
expect_eq "and its PDF to print" "$(get /poster/ks.pdf)" "200 application/pdf"
expect_contains "the PDF names the procedure" "$(pdftotext "$TMP/got" - | tr '\n' ' ')" "Đăng ký khai sinh"
expect_eq "no PDF of the stale one either" "$(get /poster/gone.pdf | cut -d' ' -f1)" "409"
get /stale > /dev/null
expect_contains "the reprint page links the commune's print run" "$(cat "$TMP/got")" '<a href="/sheet/p.pdf">'
expect_eq "the commune's print run" "$(get /sheet/p.pdf)" "200 application/pdf"
expect_eq "a page per checked code: ks and kt, not the stale one" "$(pdfinfo "$TMP/got" | sed -n 's/^Pages: *//p')" "2"
paper() { pdfinfo "$TMP/got" | sed -n 's/^Page size: *//p'; }	# the PDF just got
expect_eq "A5 pages by default" "$(paper)" "419.53 x 595.28 pts"
expect_eq "the print run on A4" "$(get '/sheet/p.pdf?size=a4')" "200 application/pdf"
expect_eq "A4 pages" "$(paper)" "595.28 x 841.89 pts (A4)"
expect_eq "a poster on A4" "$(get '/poster/ks.pdf?size=a4')" "200 application/pdf"
expect_eq "its page is A4" "$(paper)" "595.28 x 841.89 pts (A4)"
expect_eq "a paper that is not A5 or A4" "$(get '/sheet/p.pdf?size=a3' | cut -d' ' -f1)" "400"
expect_contains "is refused, saying so" "$(cat "$TMP/got")" "size must be a5 or a4"
get /stale > /dev/null
expect_contains "the reprint page offers the A4 run too" "$(cat "$TMP/got")" '<a href="/sheet/p.pdf?size=a4">'
expect_eq "an unknown commune" "$(get /sheet/nope.pdf | cut -d' ' -f1)" "404"
expect_eq "probes page" "$(get /probes | cut -d' ' -f1)" "200"
expect_contains "probes page shows the uplink" "$(cat "$TMP/got")" "<td>5g</td>"
expect_contains "probes page says the spool was made anew" "$(cat "$TMP/got")" "(tạo lại"
expect_eq "one probe's page" "$(get /probe/thon-dong-1 | cut -d' ' -f1)" "200"
expect_contains "it explains a new spool" "$(cat "$TMP/got")" "Thiết bị này đã bắt đầu một hàng đợi kết quả mới lúc"
expect_contains "it lists the spools" "$(cat "$TMP/got")" "<td><code>$EP2</code></td><td>1</td><td>3</td>"
expect_eq "JSON targets" "$(get /api/v1/targets)" "200 application/json"
expect_contains "JSON has the verdict" "$(cat "$TMP/got")" '"id":"gone","procedure":"Đăng ký khai sinh","board":"b","verdict":"STALE"'
expect_eq "JSON probes" "$(get /api/v1/probes | cut -d' ' -f1)" "200"
expect_contains "JSON probe state" "$(cat "$TMP/got")" '"id":"thon-dong-1","uplink":"5g"'
expect_contains "JSON probe epoch" "$(cat "$TMP/got")" "\"epoch\":\"$EP2\""
expect_eq "JSON target" "$(get /api/v1/targets/ks | cut -d' ' -f1)" "200"
expect_contains "JSON target carries the steps" "$(cat "$TMP/got")" '"steps":[{'
expect_eq "CSV history" "$(get /api/v1/targets/ks/history.csv)" "200 text/csv; charset=utf-8"
expect_contains "CSV header" "$(cat "$TMP/got")" "time_ms,probe,verdict,uplink,total_ms"
expect_eq "metrics" "$(get /metrics | cut -d' ' -f1)" "200"
expect_contains "metrics in the exposition format" "$(cat "$TMP/got")" 'qrwatch_target_ok{province="Tỉnh Bắc Ninh",commune="Xã Tân An",procedure="Đăng ký khai sinh",probe="thon-dong-1",target="gone"} 0'
expect_contains "metrics: the verdict is a value" "$(cat "$TMP/got")" 'qrwatch_target_verdict{province="Tỉnh Bắc Ninh",commune="Xã Tân An",procedure="Đăng ký khai sinh",probe="thon-dong-1",target="gone"} 5'
# group commit: at least one transaction, never more than the batches it applied
commits=$(awk '$1 == "qrwatch_ingest_commits_total" { print $2 }' "$TMP/got")
batches=$(awk '$1 == "qrwatch_ingest_batches_total" { print $2 }' "$TMP/got")
if [ -n "$commits" ] && [ "$commits" -ge 1 ] && [ "$commits" -le "${batches:-0}" ]; then
    pass "metrics count the commits ($commits for $batches batches)"
else
    fail "metrics count the commits: got '$commits' for '$batches' batches"
fi

# hostile text from a code and a web page is shown escaped on every page
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.500Z)
R_XSS='{"target":"kt","time":"'"$NOW"'","verdict":"DOWN","why_vi":"<img src=x onerror=alert(2)>","why_en":"<img src=x onerror=alert(2)>","payload":"\"><script>alert(1)</script>","failed_step":1,"failed_step_name":"<b>step</b>","total_us":1000,"steps":[{"name":"<b>step</b>","url":"https://x/\"><script>alert(3)</script>","status":503,"dns_us":1,"connect_us":2,"tls_us":0,"ttfb_us":3,"transfer_us":4,"total_us":10,"error":"<script>alert(4)</script>"}]}'
send "hostile result" 200 '"ack":1002' "$(batch 1002 "$R_XSS")"
for page in /target/kt / /stale /probes /api/v1/targets/kt; do
    get "$page" >/dev/null
    case "$(cat "$TMP/got")" in
        *"<script>"*|*"<img src=x"*|*"<b>step</b>"*) fail "no raw HTML from results on $page" ;;
        *) pass "no raw HTML from results on $page" ;;
    esac
done
get /target/kt >/dev/null
expect_contains "payload shown escaped" "$(cat "$TMP/got")" '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
expect_contains "step name shown escaped" "$(cat "$TMP/got")" '&lt;b&gt;step&lt;/b&gt;'
expect_contains "pages forbid scripts" "$(curl -s -D - -o /dev/null "http://127.0.0.1:$S/")" "Content-Security-Policy: default-src 'none'"

# a real browser: headless Chromium renders the pages; the DOM holds the
# verdicts and the Vietnamese text, and screenshots are kept for people
SHOTS="$QRW_BUILD/test-output"
mkdir -p "$SHOTS"
chrome() {  # chrome ARGS... URL
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --hide-scrollbars --user-data-dir="$TMP/chromium" "$@" 2>/dev/null
}
if command -v chromium >/dev/null; then
    DOM=$(chrome --dump-dom "http://127.0.0.1:$S/")
    expect_contains "browser: overview shows STALE" "$DOM" '<span class="v STALE">STALE</span>'
    expect_contains "browser: overview shows OK" "$DOM" '<span class="v OK">'
    expect_contains "browser: Vietnamese rendered" "$DOM" "Giám sát mã QR thủ tục hành chính"
    DOM=$(chrome --dump-dom "http://127.0.0.1:$S/target/kt?lang=en")
    expect_contains "browser: English target page" "$DOM" "Last check"
    case "$DOM" in *"<script>alert"*) fail "browser: no script from results in the DOM" ;;
        *) pass "browser: no script from results in the DOM" ;; esac
    chrome --screenshot="$SHOTS/overview.png" --window-size=1280,900 "http://127.0.0.1:$S/" >/dev/null
    chrome --screenshot="$SHOTS/target.png" --window-size=1280,1400 "http://127.0.0.1:$S/target/ks" >/dev/null
    chrome --screenshot="$SHOTS/overview-phone.png" --window-size=390,844 "http://127.0.0.1:$S/" >/dev/null
    chrome --screenshot="$SHOTS/stale.png" --window-size=1000,1400 "http://127.0.0.1:$S/stale" >/dev/null
    for f in overview target overview-phone stale; do
        expect_eq "browser: screenshot $f.png saved" "$(head -c 4 "$SHOTS/$f.png" 2>/dev/null | od -An -c | tr -d ' ')" "211PNG"
    done
else
    fail "browser tests" "chromium is not installed (.ci/deps installs it)"
fi

# through an rrdcached of its own (rrdcached = ADDRESS): updates reach the
# RRD files via that cache daemon, and qrwatchd starts none
if command -v rrdcached >/dev/null; then
    mkdir -p "$TMP/cdata"
    rrdcached -g -l "unix:$TMP/rrdcached.sock" -j "$TMP/cdata" -w 3600 -z 1 \
        -p "$TMP/rrdcached.pid" >/dev/null 2>&1 &
    CPID=$!
    PIDS="$PIDS $CPID"
    wait_file "$TMP/rrdcached.pid"
    i=0; while [ ! -S "$TMP/rrdcached.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    sed -e "s|^data_dir = .*|data_dir = $TMP/cdata|" "$TMP/qrwatchd.conf" > "$TMP/cached.conf"
    printf 'rrdcached = unix:%s/rrdcached.sock\n' "$TMP" >> "$TMP/cached.conf"
    "$SERVER" -c "$TMP/cached.conf" -p "$TMP/cached.port" 2>"$TMP/cached.log" &
    XPID=$!
    PIDS="$PIDS $XPID"
    wait_file "$TMP/cached.port"
    printf '%s' "$(batch 1 "$R1")" > "$TMP/c1.json"
    expect_contains "ingest through rrdcached" "$("$SEND" "http://127.0.0.1:$(cat "$TMP/cached.port")/api/v1/ingest" thon-dong-1 "$SECRET" "$TMP/c1.json")" '"rrd_refused":0'
    i=0
    until OUT=$(rrdtool lastupdate --daemon "unix:$TMP/rrdcached.sock" "$TMP/cdata/rrd/thon-dong-1/kt.rrd" 2>&1) &&
        [ "${OUT#* 503}" != "$OUT" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
    expect_contains "rrdcached holds the update" "$OUT" " 503"
    expect_eq "qrwatchd started no rrdcached of its own" "$([ -e "$TMP/cdata/rrdcached.sock" ] && echo yes)" ""
    # four results a minute apart: rrdtool fetch reads consolidated values back
    EPOCH=$(date +%s)
    rs=""
    for ago in 240 180 120 60; do
        t=$(date -u -d "@$((EPOCH - ago))" +%Y-%m-%dT%H:%M:%S.000Z)
        rs="$rs${rs:+ }$(printf '%s' "$R1" | sed "s/\"time\":\"[^\"]*\"/\"time\":\"$t\"/; s/\"kt\"/\"ks\"/")"
    done
    # shellcheck disable=SC2086
    printf '%s' "$(batch 2 $rs)" > "$TMP/c2.json"
    expect_contains "four timed results ingested" "$("$SEND" "http://127.0.0.1:$(cat "$TMP/cached.port")/api/v1/ingest" thon-dong-1 "$SECRET" "$TMP/c2.json")" '"rrd_refused":0'
    i=0
    until [ "$(rrdtool lastupdate --daemon "unix:$TMP/rrdcached.sock" "$TMP/cdata/rrd/thon-dong-1/ks.rrd" 2>/dev/null | tail -n 1 | cut -d: -f1)" = "$((EPOCH - 60))" ] ||
        [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
    OUT=$(rrdtool fetch --daemon "unix:$TMP/rrdcached.sock" "$TMP/cdata/rrd/thon-dong-1/ks.rrd" AVERAGE \
        --start "$((EPOCH - 360))" --end "$EPOCH" 2>&1)
    expect_contains "rrdtool fetch lists the data sources" "$OUT" "avail"
    expect_contains "rrdtool fetch has the 503s as status" "$OUT" "5.0300000000e+02"
    expect_contains "rrdtool fetch has availability 0 for them" "$OUT" ": 0.0000000000e+00"
    n=$(printf '%s\n' "$OUT" | grep -c '5.0300000000e+02')
    if [ "$n" -ge 2 ]; then pass "rrdtool fetch has at least two full minutes ($n)"
    else fail "rrdtool fetch has at least two full minutes" "got $n rows:" "$OUT"; fi
    kill "$XPID"
    wait "$XPID" 2>/dev/null
    kill "$CPID"
else
    fail "rrdcached test" "rrdcached is not installed (.ci/deps installs it)"
fi

# HTTPS served by qrwatchd itself, and a probe pushing over it
"$QRW_BUILD/tests/mkcert" "$TMP"
sed -e "s|^data_dir = .*|data_dir = $TMP/tdata|" "$TMP/qrwatchd.conf" > "$TMP/tls.conf"
printf 'tls_cert = %s/good.pem\ntls_key = %s/good.key\n' "$TMP" "$TMP" >> "$TMP/tls.conf"
# and the RRD files written directly, without rrdcached
printf 'rrdcached = off\n' >> "$TMP/tls.conf"
"$SERVER" -c "$TMP/tls.conf" -p "$TMP/tls.port" 2>"$TMP/tls.log" &
TPID=$!
PIDS="$PIDS $TPID"
wait_file "$TMP/tls.port"
T=$(cat "$TMP/tls.port")
expect_eq "HTTPS health check" "$(curl -s --cacert "$TMP/ca.pem" --resolve "portal.test:$T:127.0.0.1" "https://portal.test:$T/healthz")" "ok"
sed -e "s|^server = .*|server = https://portal.test:$T/api/v1/ingest|; s|^spool_dir = .*|spool_dir = $TMP/tspool|; s|^resolve = .*|resolve = portal.test:$P:127.0.0.1 portal.test:$T:127.0.0.1|" "$TMP/probe.conf" > "$TMP/tprobe.conf"
printf 'ca_file = %s/ca.pem\n' "$TMP" >> "$TMP/tprobe.conf"
"$PROBE" run -c "$TMP/tprobe.conf" 2>"$TMP/tprobe.log" &
DPID=$!
PIDS="$PIDS $DPID"
i=0
while [ "$(sqlite3 "$TMP/tdata/qrwatch.db" 'SELECT count(*) FROM results' 2>/dev/null || echo 0)" -lt 3 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill "$DPID"; wait "$DPID"
n=0
for t in ks kt gone; do wait_rrd "$TMP/tdata" "$TMP/tdata/rrd/thon-dong-1/$t.rrd" && n=$((n + 1)); done
kill "$TPID"; wait "$TPID"
expect_eq "results pushed over HTTPS" "$(sqlite3 "$TMP/tdata/qrwatch.db" 'SELECT count(*) FROM results')" "3"
expect_eq "RRD files written directly (rrdcached = off)" "$n" "3"
expect_eq "no rrdcached started with rrdcached = off" "$([ -e "$TMP/tdata/rrdcached.sock" ] && echo yes)" ""

# the optional login: users with salted password hashes
LINE=$(printf 'mật-khẩu đúng\n' | "$SERVER" --hash-password can-bo)
expect_contains "hash-password prints a config line" "$LINE" 'user = can-bo pbkdf2-sha256$'
case "$LINE" in *"mật-khẩu"*) fail "the password itself is not in the line" ;; *) pass "the password itself is not in the line" ;; esac
printf 'user = x hunter2\n' >> "$TMP/bad.conf"
"$SERVER" -t -c "$TMP/bad.conf" 2>"$TMP/bad.err" >/dev/null
expect_contains "a plain password is refused" "$(cat "$TMP/bad.err")" "must be a pbkdf2-sha256 hash, never the password itself"

# a probe that reads the board but leaves the flow to others vouches for no
# address: its OK has no step (checked_from), so no poster is offered on it
T1=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
R_BOARD='{"target":"ks","time":"'"$T1"'","verdict":"OK","why_vi":"x","why_en":"x","payload":"'"$B"'/dvc/khai-sinh","decode_step":"as-is","failed_step":0,"total_us":0,"steps":[]}'
EP3=00000000000000b0
send "a board-only OK" 200 '"applied":1' "$(ebatch $EP3 1 "$R_BOARD")"
expect_eq "the code is OK" "$(db "SELECT verdict FROM target_state WHERE target = 'ks'")" "OK"
expect_eq "but a board read alone offers no poster" "$(get /poster/ks.svg | cut -d' ' -f1)" "409"
expect_eq "nor a print run" "$(get /sheet/p.pdf | cut -d' ' -f1)" "409"
sleep 0.01
T2=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
R_WALKED=$(printf '%s' "$R1" | sed "s/\"kt\"/\"ks\"/; s/\"time\":\"[^\"]*\"/\"time\":\"$T2\"/; s/\"DOWN\"/\"OK\"/; s/\"status\":503/\"status\":200/")
send "the flow walked again" 200 '"applied":1' "$(ebatch $EP3 2 "$R_WALKED")"
expect_eq "and the poster is offered again" "$(get /poster/ks.svg | cut -d' ' -f1)" "200"

# kill -9 of the server loses nothing it acknowledged
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server2.port" 2>"$TMP/server2.log" &
SPID=$!
PIDS="$PIDS $SPID"
wait_file "$TMP/server2.port"
expect_eq "acknowledged results survive kill -9" "$(count)" "$((before + 3 + 6 + 2))"
expect_contains "the rrdcached of the killed server wrote out what it held" \
    "$(rrd_last "$TMP/data" "$TMP/data/rrd/thon-dong-1/kt.rrd")" \
    "$(db "SELECT max(time_ms) / 1000 FROM results WHERE probe = 'thon-dong-1' AND target = 'kt'")"
kill "$SPID"
wait "$SPID"
# with a user configured, pages need the login; probes still push by HMAC
printf '%s\n' "$LINE" >> "$TMP/qrwatchd.conf"
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server3.port" 2>"$TMP/server3.log" &
SPID=$!
PIDS="$PIDS $SPID"
wait_file "$TMP/server3.port"
S=$(cat "$TMP/server3.port")
expect_eq "pages need a login" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S/")" "401"
expect_eq "a wrong password is refused" "$(curl -s -o /dev/null -w '%{http_code}' -u 'can-bo:sai' "http://127.0.0.1:$S/")" "401"
expect_eq "the right password opens the pages" "$(curl -s -o /dev/null -w '%{http_code}' -u 'can-bo:mật-khẩu đúng' "http://127.0.0.1:$S/")" "200"
printf '%s' "$(batch 1003 "$(printf '%s' "$R1" | sed "s/\"time\":\"[^\"]*\"/\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%S.900Z)\"/")")" > "$TMP/b.json"
expect_contains "ingest needs no login, only its signature" "$("$SEND" "http://127.0.0.1:$S/api/v1/ingest" thon-dong-1 "$SECRET" "$TMP/b.json")" '200 {"ack":1003'
expect_eq "health check needs no login" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S/healthz")" "200"
kill "$SPID"
wait "$SPID"
expect_eq "server stops cleanly" "$?" "0"

finish
