#!/bin/sh
# test_snapshot.sh - a board camera's snapshot that the probe's decoder
# cannot read (ZBar only, as a router build has it) handed by
# qrwatch-probe to qrwatchd, whose whole cascade (ZXing-C++ too) reads
# it, and the probe judges the server's reading as its own; every bad hand-over refused by the server
# with why, and the probe saying what failed. How often a board's photos
# go over (the same photo once, snapshot_every) is tests/unit/test_check.c's.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-snapshot-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

if ! "$QRWATCH" decode --help | grep -q "^The cascade.* zxing"; then
    echo "note: built without ZXing-C++ (make ZXING=no): the server reads no more than the probe"
    finish
    exit $?
fi

mkdir "$TMP/snaps"
# the portal, and the board's camera (its /snap/ pages) on the village LAN
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" -i "$TMP/snaps" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")
B="http://portal.test:$P"
# keystone N top|bottom FILE: the code photographed at an angle, that edge at N% of the other
"$QRWATCH" encode -o "$TMP/flat.png" "$B/dvc/khai-sinh" >/dev/null
W=$(/usr/bin/identify -format %w "$TMP/flat.png")
keystone() {
    m=$((W * (100 - $1) / 200))
    if [ "$2" = top ]; then
        corners="0,0 $m,0  $W,0 $((W - m)),0  0,$W 0,$W  $W,$W $W,$W"
    else
        corners="0,0 0,0  $W,0 $W,0  0,$W $m,$W  $W,$W $((W - m)),$W"
    fi
    /usr/bin/convert "$TMP/flat.png" -virtual-pixel white -distort Perspective "$corners" "$3"
}
ZBAR="$QRW_BUILD/tests/qrwatch-probe-decode-zbar"
for k in "55 top board"; do
    set -- $k
    keystone "$1" "$2" "$TMP/$3.png"
    expect_eq "the router's decoder (ZBar only) reads nothing on the $3 photo" \
        "$("$ZBAR" < "$TMP/$3.png" | head -c 1)" "N"
    expect_eq "the whole cascade reads it" "$("$QRW_BUILD/qrwatch-probe-decode" < "$TMP/$3.png" | head -c 1)" "F"
done
cp "$TMP/board.png" "$TMP/snaps/board.png"
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\nprobe = thon-dong-1\n\n'
printf '[board c]\nplace = p\nlocation = Chợ\nprobe = thon-bac\n\n'
printf '[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage_url = %s/snap/board.png\nimage_allow_private = yes\n' "$B"
printf 'payload = %s/dvc/khai-sinh\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n' "$B"
printf '\n[target cho]\nboard = c\nprocedure = Đăng ký khai sinh\nimage = %s/board.png\n' "$TMP"
printf 'payload = %s/dvc/khai-sinh\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n' "$B"
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
probe = thon-bac $TMP/probe.secret
CONF
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>"$TMP/server.log" &
PIDS="$PIDS $!"
wait_file "$TMP/server.port"
S=$(cat "$TMP/server.port")
U="http://127.0.0.1:$S/api/v1/probes"

# the endpoint, as docs/protocol.md signs it: "PROBE\nTIME\nTARGET\nSHA256"
# snap PROBE TARGET FILE [TIME [KEY]]: POST the file, print the HTTP status
snap() {
    t=${4:-$(($(date +%s) * 1000))}
    sig=$(printf '%s\n%s\n%s\n%s' "$1" "$t" "$2" "$(sha256sum < "$3" | cut -d' ' -f1)" |
          openssl dgst -sha256 -hmac "${5:-$SECRET}" | sed 's/.*= *//')
    curl -s -o "$TMP/got" -w '%{http_code}' -H "X-Qrwatch-Probe: $1" -H "X-Qrwatch-Time: $t" \
        -H "X-Qrwatch-Target: $2" -H "X-Qrwatch-Signature: sha256=$sig" \
        --data-binary "@$3" "$U/$1/snapshot"
}
expect_eq "a signed snapshot is read" "$(snap thon-dong-1 ks "$TMP/board.png")" "200"
expect_eq "in the decoder's own reply format: one code, by ZXing" "$(head -n 1 "$TMP/got" | cut -d' ' -f3-)" "zxing 1"
expect_contains "the whole address" "$(cat "$TMP/got")" "$B/dvc/khai-sinh"
expect_eq "a wrong key: 401" "$(snap thon-dong-1 ks "$TMP/board.png" "" wrong-secret-wrong-secret)" "401"
expect_contains "saying so" "$(cat "$TMP/got")" "signature does not match"
expect_eq "an hour-old signature: 401" "$(snap thon-dong-1 ks "$TMP/board.png" $((($(date +%s) - 3600) * 1000)))" "401"
expect_contains "saying so" "$(cat "$TMP/got")" "more than 10 minutes off"
expect_eq "another probe's board: 403" "$(snap thon-dong-1 cho "$TMP/board.png")" "403"
expect_contains "saying whose it is" "$(cat "$TMP/got")" "probe 'thon-dong-1' does not read the board of 'cho'"
expect_eq "a target the catalog lacks: 404" "$(snap thon-dong-1 nope "$TMP/board.png")" "404"
printf 'not a photo\n' > "$TMP/text.png"
expect_eq "not an image: 415" "$(snap thon-dong-1 ks "$TMP/text.png")" "415"
expect_eq "no target named: 400" "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$TMP/board.png" "$U/thon-dong-1/snapshot")" "400"
expect_eq "GET is for the catalog only" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$U/thon-dong-1/snapshot")" "405"
expect_eq "nothing of it went into the results" "$(db 'SELECT count(*) FROM results')" "0"

cat > "$TMP/probe.conf" <<CONF
probe_id = thon-dong-1
secret_file = $TMP/probe.secret
server = http://127.0.0.1:$S/api/v1/ingest
catalog = $TMP/c.catalog
uplink = 4g
spool_dir = $TMP/spool
resolve = portal.test:$P:127.0.0.1
decoder = $ZBAR
push_interval = 1
first_push_delay_max = 0
flush_every = 1
CONF
results() { db "SELECT count(*) FROM results WHERE target = 'ks'" 2>/dev/null || echo 0; }
# wait_results N: until the server has N results of ks
wait_results() {
    i=0
    while [ "$(results)" -lt "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    expect_eq "result $1 came in" "$(results)" "$1"
}
# the probe's hand-overs: the server's reads of ks since the signed ones above
H0=$(grep -c "ks: read the snapshot probe thon-dong-1 could not" "$TMP/server.log")
handovers() { echo $(($(grep -c "ks: read the snapshot probe thon-dong-1 could not" "$TMP/server.log") - H0)); }
last() { db "SELECT verdict || ' ' || json_extract(json, '\$.decode_step') FROM results WHERE target = 'ks' ORDER BY time_ms DESC, rowid DESC LIMIT 1"; }
"$PROBE" run -c "$TMP/probe.conf" 2>"$TMP/probe.log" &
DPID=$!
PIDS="$PIDS $DPID"
wait_results 1
expect_eq "the probe judges the server's reading: OK, read by qrwatchd's ZXing" "$(last)" "OK qrwatchd:zxing"
expect_eq "one photo handed over" "$(handovers)" "1"
expect_contains "the probe's log says so" "$(cat "$TMP/probe.log")" "ks: no code read on the board photo here; the server read 1"
kill "$DPID"
wait "$DPID"

# a server that will not read it: the board stays unreadable, saying why
sed -e 's|^server = .*|&\nsnapshot_url = http://127.0.0.1:'"$S"'/api/v1/probes/thon-dong-1/snapshot-x|' \
    -e "s|^spool_dir = .*|spool_dir = $TMP/spool2|" "$TMP/probe.conf" > "$TMP/probe2.conf"
"$PROBE" run -c "$TMP/probe2.conf" 2>"$TMP/probe2.log" &
DPID=$!
PIDS="$PIDS $DPID"
wait_results 2
kill "$DPID"
wait "$DPID"
expect_eq "UNREADABLE when the server did not read it" "$(db "SELECT verdict FROM results WHERE target = 'ks' ORDER BY rowid DESC LIMIT 1")" "UNREADABLE"
expect_contains "with the probe's steps and the server's answer" \
    "$(db "SELECT json_extract(json, '$.why_en') FROM results WHERE target = 'ks' ORDER BY rowid DESC LIMIT 1")" \
    "preprocessing steps tried; the server did not read it: HTTP 401"
# snapshot_to_server = no: as before, the photo stays on the probe
printf 'snapshot_to_server = no\n' | cat "$TMP/probe2.conf" - | grep -v '^snapshot_url' > "$TMP/probe3.conf"
sed -i "s|^spool_dir = .*|spool_dir = $TMP/spool3|" "$TMP/probe3.conf"
"$PROBE" run -c "$TMP/probe3.conf" 2>"$TMP/probe3.log" &
DPID=$!
PIDS="$PIDS $DPID"
wait_results 3
kill "$DPID"
wait "$DPID"
expect_eq "snapshot_to_server = no: UNREADABLE" "$(db "SELECT verdict FROM results WHERE target = 'ks' ORDER BY rowid DESC LIMIT 1")" "UNREADABLE"
expect_eq "and nothing handed over" "$(handovers)" "1"
expect_eq "the photo kept on the probe for later" "$(ls "$TMP/spool3/unread")" "ks.png"
finish
