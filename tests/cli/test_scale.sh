#!/bin/sh
# test_scale.sh - a province at the size the server is built for: 100,000
# targets on 10,000 boards in 100 communes. The catalog passes lint, the
# server starts on it, takes a full batch, and answers its pages and
# /metrics within their limits.
. "$(dirname "$0")/lib.sh"
SERVER="$(cd "$QRW_BUILD" && pwd)/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-scale-tests
N=100000

awk -v n=$N 'BEGIN {
    for (i = 0; i < 100; i++)
        printf "[place c%03d]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã số %d\n\n", i, i
    for (i = 0; i < n / 10; i++)
        printf "[board b%05d]\nplace = c%03d\nlocation = Nhà văn hoá thôn %d\n\n", i, int(i / 100), i
    for (i = 0; i < n; i++)
        printf "[target t%06d]\nboard = b%05d\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n\n", i, int(i / 10)
}' > "$TMP/c.catalog"
expect_run "lint: 100,000 targets are a valid catalog" 0 "$QRWATCH" lint "$TMP/c.catalog"

printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-1 $TMP/probe.secret
rrdcached = off
CONF
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" >/dev/null 2>"$TMP/server.log" &
SPID=$!
wait_file "$TMP/server.port" 600
expect_eq "qrwatchd starts on it" "$([ -s "$TMP/server.port" ] && echo yes)" "yes"
S="http://127.0.0.1:$(cat "$TMP/server.port")"

# a full batch (1,000 results) spread over the catalog, a tenth of them DOWN
T=$(date -u -d "@$(( $(date +%s) - 60 ))" +%Y-%m-%dT%H:%M:%S.000Z)
awk -v t="$T" -v now="$(date +%s%3N)" 'BEGIN {
    printf "{\"probe\":\"thon-1\",\"seq\":1,\"clock_ms\":%s,\"uplink\":\"4g\",\"version\":\"t\",\"results\":[", now
    for (i = 0; i < 1000; i++)
        printf "%s{\"target\":\"t%06d\",\"time\":\"%s\",\"verdict\":\"%s\",\"why_vi\":\"x\",\"payload\":\"\",\"failed_step\":0,\"total_us\":1000,\"steps\":[{\"name\":\"a\",\"status\":200,\"total_us\":10}]}", i ? "," : "", i * 100, t, i % 10 ? "OK" : "DOWN"
    printf "]}"
}' > "$TMP/b.json"
expect_contains "a batch of 1,000 results: acknowledged" \
    "$("$SEND" "$S/api/v1/ingest" thon-1 "$SECRET" "$TMP/b.json")" '200 {"ack":1'

get() {  # get PATH: "STATUS BYTES" of a page
    curl -s -o "$TMP/page" -w '%{http_code} %{size_download}' "$S$1"
}
expect_eq "a target page: 200" "$(get /target/t099900 | cut -d' ' -f1)" "200"
expect_contains "with its procedure" "$(cat "$TMP/page")" "Đăng ký khai sinh"
set -- $(get /)
expect_eq "the overview: 200" "$1" "200"
expect_contains "lists the DOWN codes" "$(cat "$TMP/page")" "t099000"
set -- $(get /metrics)
expect_eq "/metrics: 200" "$1" "200"
expect_contains "with every pair's series" "$(cat "$TMP/page")" 't099900'
expect_eq "/healthz: 200" "$(get /healthz | cut -d' ' -f1)" "200"

kill "$SPID"
wait "$SPID"
expect_eq "and it stops cleanly" "$?" "0"
SPID=""
case "$(cat "$TMP/server.log")" in
    *AddressSanitizer*|*"runtime error"*) fail "no sanitizer report" "$(grep -A5 -E 'AddressSanitizer|runtime error' "$TMP/server.log" | head -n 20)" ;;
    *) pass "no sanitizer report" ;;
esac
finish
