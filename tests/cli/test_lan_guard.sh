#!/bin/sh
# test_lan_guard.sh - a posted code must not lead the probe into its own LAN,
# not even over a connection that is already open: the push server's, the
# one another target's check opened to a LAN host it may reach, or the board
# camera's. Each redirect is refused before its request is sent.
. "$(dirname "$0")/lib.sh"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM
# portal NAME ADDRESS ARGS...: a fixture portal on one loopback address
portal() {
    name=$1 addr=$2
    shift 2
    "$QRW_BUILD/tests/portal" -a "$addr" -p "$TMP/$name.port" -r "$TMP/$name.requests" "$@" \
        >/dev/null 2>&1 &
    PIDS="$PIDS $!"
    wait_file "$TMP/$name.port"
}
mkdir -p "$TMP/snaps"
portal web 127.0.0.2                    # the portal the codes point at
portal lan 127.0.0.3                    # a LAN host that target 'a' may reach
portal cam 127.0.0.4 -i "$TMP/snaps"    # the board camera of target 'c'
W=$(cat "$TMP/web.port") L=$(cat "$TMP/lan.port") C=$(cat "$TMP/cam.port")
"$QRW_BUILD/tests/receiver" -s s3cret-for-the-guard-test -p "$TMP/push.port" \
    -l "$TMP/received.log" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/push.port"
R=$(cat "$TMP/push.port")

# Each redirect comes a while after its check starts, when the connection it
# aims at is open and idle: a's check and c's snapshot within 4 s, the first
# pushes within 7 s (the first checks start in the first 3 s).
redir() { printf 'http://portal.test:%s/redirect?ms=4000&to=%s' "$W" "$1"; }
code() {  # code TARGET URL
    "$QRW_BUILD/qrwatch" encode -o "$TMP/$1.png" "$2" >/dev/null
}
code a "http://lan.test:$L/dvc/khai-sinh"
code b "$(redir "http://lan.test:$L/from-b-secret")"
code d "http://portal.test:$W/redirect?ms=7000&to=http://127.0.0.1:$R/server-secret"
"$QRW_BUILD/qrwatch" encode -o "$TMP/snaps/board-c.png" "$(redir "http://cam.test:$C/camera-admin")" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board bd]\nplace = p\nlocation = Nhà văn hoá\n'
printf '\n[target a]\nboard = bd\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/a.png"
printf 'official_domains = lan.test\nallow_private = 127.0.0.3\ninterval = 30\n'
for t in b d; do
    printf '\n[target %s]\nboard = bd\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$TMP/$t.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.2\ninterval = 30\n'
done
printf '\n[target c]\nboard = bd\nprocedure = Đăng ký khai sinh\nimage_url = http://cam.test:%s/snap/board-c.png\n' "$C"
printf 'image_allow_private = yes\nofficial_domains = portal.test\nallow_private = 127.0.0.2\ninterval = 30\n'
} > "$TMP/c.catalog"
cat > "$TMP/probe.conf" <<CONF
probe_id = thon-dong-1
secret = s3cret-for-the-guard-test
server = http://127.0.0.1:$R/api/v1/ingest
catalog = $TMP/c.catalog
spool_dir = $TMP/spool
resolve = portal.test:$W:127.0.0.2 lan.test:$L:127.0.0.3 cam.test:$C:127.0.0.4
push_interval = 1
first_push_delay_max = 0
flush_every = 1
concurrency = 4
CONF
"$PROBE" run -c "$TMP/probe.conf" 2>"$TMP/probe.log" &
DPID=$!
PIDS="$PIDS $DPID"
i=0
while [ "$(grep -c ' [abcd] ' "$TMP/received.log" 2>/dev/null || echo 0)" -lt 4 ] && [ $i -lt 200 ]; do
    sleep 0.1; i=$((i + 1))
done
kill "$DPID"; wait "$DPID"
verdict() { sed -n "s/^[0-9]* $1 \([A-Z_]*\) .*/\1/p" "$TMP/received.log" | head -n 1; }
expect_eq "target a reaches the LAN host it may reach" "$(verdict a)" "OK"
expect_eq "its request went there" "$(grep -c 'GET /dvc/khai-sinh' "$TMP/lan.requests")" "1"
expect_eq "the camera was read for target c" "$(grep -c 'GET /snap/board-c.png' "$TMP/cam.requests")" "1"
expect_eq "pushes went out before the redirects" "$([ "$(grep -c ' a ' "$TMP/received.log")" -ge 1 ] && echo yes)" "yes"
# 1. the push server's open connection
expect_eq "a redirect to the push server is refused" "$(verdict d)" "DOWN"
expect_eq "and nothing reached the push server" "$(grep -c 'server-secret' "$TMP/received.log")" "0"
# 2. another target's LAN host, over the connection that target opened
expect_eq "a redirect to another target's LAN host is refused" "$(verdict b)" "DOWN"
expect_eq "and nothing reached that host" "$(grep -c 'from-b-secret' "$TMP/lan.requests")" "0"
# 3. the board camera, over the snapshot's connection
expect_eq "a redirect to the board camera is refused" "$(verdict c)" "DOWN"
expect_eq "and nothing reached the camera" "$(grep -c 'camera-admin' "$TMP/cam.requests")" "0"
expect_eq "the probe logs no sanitizer report" "$(grep -c 'Sanitizer\|runtime error' "$TMP/probe.log")" "0"
finish
