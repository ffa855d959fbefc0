#!/bin/sh
# test_probe.sh - qrwatch-probe check against the fixture portal: every
# verdict, every kind of hang, every refused address class, TLS failures.
. "$(dirname "$0")/lib.sh"
PROBE="$QRW_BUILD/qrwatch-probe"
PORTAL="$QRW_BUILD/tests/portal"
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM

# start_portal NAME ARGS...: start a portal; its port lands in $TMP/NAME.port
start_portal() {
    name=$1
    shift
    "$PORTAL" -p "$TMP/$name.port" "$@" >/dev/null 2>"$TMP/$name.log" &
    PIDS="$PIDS $!"
}

# port NAME: wait for a portal's port file and print the port
port() {
    i=0
    while [ ! -s "$TMP/$1.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    cat "$TMP/$1.port"
}

"$QRW_BUILD/tests/mkcert" "$TMP" || { echo "FAIL cannot make certificates"; exit 1; }
mkdir -p "$TMP/snaps"
start_portal plain -b "$TMP/hole.port" -i "$TMP/snaps"
start_portal second -a 127.0.0.2
echo $! > "$TMP/second.pid"
start_portal good -c "$TMP/good.pem" -k "$TMP/good.key"
start_portal expired -c "$TMP/expired.pem" -k "$TMP/expired.key"
start_portal self -c "$TMP/self.pem" -k "$TMP/self.key"
P=$(port plain)
HOLE=$(port hole)
P2=$(port second)
PG=$(port good)
PE=$(port expired)
PS=$(port self)
# the second portal is on 127.0.0.2, where the kernel may pick a port one
# on 127.0.0.1 has: portal.test:PORT must name one of them only
tries=0
while printf ' %s \n' "$P $HOLE $PG $PE $PS" | grep -q " $P2 " && [ $tries -lt 20 ]; do
    kill "$(cat "$TMP/second.pid" 2>/dev/null || echo 0)" 2>/dev/null
    rm -f "$TMP/second.port"
    start_portal second -a 127.0.0.2
    echo $! > "$TMP/second.pid"
    P2=$(port second)
    tries=$((tries + 1))
done
# The board codes point at portal.test, an official domain of these
# targets; --resolve maps it to the portals on loopback.
B="http://portal.test:$P"
RESOLVE="--resolve portal.test:$P:127.0.0.1 --resolve portal.test:$P2:127.0.0.2 \
 --resolve portal.test:$HOLE:127.0.0.1 --resolve portal.test:$PG:127.0.0.1 \
 --resolve portal.test:$PE:127.0.0.1 --resolve portal.test:$PS:127.0.0.1"
CAT="$TMP/c.catalog"

# t ID URL [extra catalog lines...]: a target whose board shows URL
t() {
    id=$1 url=$2
    shift 2
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$id" "$TMP/$id.png"
    printf 'official_domains = portal.test\n'
    has_allow=0
    for l in "$@"; do
        case "$l" in allow_private*) has_allow=1 ;; esac
        printf '%s\n' "$l"
    done
    [ $has_allow -eq 1 ] || printf 'allow_private = 127.0.0.1\n'
    "$QRW_BUILD/qrwatch" encode -o "$TMP/$id.png" "$url" >/dev/null
}

{
cat <<CAT
[place p]
province = Tỉnh Bắc Ninh
commune = Xã Tân An

[board b]
place = p
location = Nhà văn hoá thôn Đông

[flow ks]
name = Đăng ký khai sinh

[step]
name = Trang thủ tục
url = {payload}
expect_text = Đăng ký khai sinh
capture = csrf body name="csrf_token" value="([^"]+)"

[step]
name = Nộp hồ sơ
method = POST
url = /dvc/nop-ho-so/khai-sinh
form = csrf_token={csrf}
expect_text = Đã tiếp nhận

[flow broken3]
name = Luồng gãy ở bước 3

[step]
name = Bước một
url = {payload}

[step]
name = Bước hai
url = /flow/3/step/2

[step]
name = Bước ba
url = /flow/3/step/3

[step]
name = Bước bốn
url = /flow/3/step/4

[flow json]
name = JSON

[step]
name = Lấy mã
url = $B/dvc/json-token
capture = tok json \$.data.token

[step]
name = Gửi
method = POST
url = /dvc/json-submit
json = {"token": "{tok}"}

[flow nocookie]
name = Không có phiên

[step]
name = Nộp thẳng
method = POST
url = {payload}
form = csrf_token=tok-7f3a

[flow hdr]
name = Header capture and a step objective

[step]
name = Trang thủ tục
url = {payload}
capture = sid header:Set-Cookie sid=([a-z0-9-]+)
slo_ms = 5000

[step]
name = Trang chậm
url = /slow/300?sid={sid}
slo_ms = 150

[flow maint]
name = Bảo trì

[step]
name = Trang
url = {payload}
reject_text = Hệ thống đang bảo trì
CAT
t ok "$B/dvc/khai-sinh" "flow = ks"
t broken "$B/flow/3/step/1" "flow = broken3"
t jsonflow "$B/dvc/khai-sinh" "flow = json"
t nocookie "$B/dvc/nop-ho-so/khai-sinh" "flow = nocookie"
t hdr "$B/dvc/khai-sinh" "flow = hdr" "slo_ms = 60000"
t gone "$B/gone"
t removed "$B/removed"
t home "$B/moved"
t unnamed "$B/maintenance" "expect_text = Đăng ký kết hôn"
t maint "$B/maintenance" "flow = maint"
t error "$B/error"
t slow "$B/slow/400" "slo_ms = 200"
t hang "$B/hang" "first_byte_ms = 400"
t stall "$B/stall" "stall_ms = 400"
t deadline "$B/slow/3000" "deadline_ms = 700"
t hole "http://portal.test:$HOLE/" "connect_timeout_ms = 400"
t big "$B/big"
t private "$B/dvc/khai-sinh" "allow_private = no"
t redirect "http://portal.test:$P2/redirect?to=http://127.0.0.1:$P/dvc/khai-sinh" "allow_private = 127.0.0.2"
t tls "https://portal.test:$PG/dvc/khai-sinh"
t expired "https://portal.test:$PE/dvc/khai-sinh"
t selfsigned "https://portal.test:$PS/dvc/khai-sinh"
t fake "https://dichvuc0ng.gov.vn/khai-sinh"
t ftp "ftp://portal.test/form.pdf"
} > "$CAT"
# camera snapshots: a board photographed by a camera on the village LAN
"$QRW_BUILD/qrwatch" encode -o "$TMP/snaps/board.png" "$B/dvc/khai-sinh" >/dev/null
snap() {  # snap ID URL [extra lines...]
    id=$1 url=$2
    shift 2
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage_url = %s\n' "$id" "$url"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\n'
    for l in "$@"; do printf '%s\n' "$l"; done
}
{
snap snapok "$B/snap/board.png" "image_allow_private = yes"
snap snaplan "$B/snap/board.png"
snap snapgone "$B/snap/nothing.png" "image_allow_private = yes"
} >> "$CAT"
printf 'not a photo' > "$TMP/torn.png"
printf '\n[target torn]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\nofficial_domains = portal.test\n' "$TMP/torn.png" >> "$CAT"

expect_run "catalog lints" 0 "$QRW_BUILD/qrwatch" lint "$CAT"

# check ID: run a check, set V (verdict) and J (the JSON)
check() {
    # shellcheck disable=SC2086
    J=$("$PROBE" check -c "$CAT" --ca "$TMP/ca.pem" $RESOLVE --json --uplink 4g "$1" 2>"$TMP/check.err")
    V=$(printf '%s' "$J" | sed -n 's/.*"verdict":"\([A-Z_]*\)".*/\1/p')
}

# verdict ID WANT [TEXT-IN-WHY]
verdict() {
    check "$1"
    expect_eq "$1 is $2" "$V" "$2"
    [ -z "${3:-}" ] || expect_contains "$1 says why" "$J" "$3"
}

verdict ok OK "All 2 steps passed"
expect_contains "ok carries the uplink" "$J" '"uplink":"4g"'
expect_contains "ok times the connect" "$J" '"connect_us":'
expect_contains "ok reads the board" "$J" '"decode_step":"as-is"'
verdict jsonflow OK
verdict hdr SLOW "step 2 (Trang chậm) took"
expect_contains "header captured into the next URL" "$J" "/slow/300?sid=s-51c9"
verdict tls OK
expect_contains "tls phase measured" "$(printf '%s' "$J" | grep -o '"tls_us":[1-9][0-9]*')" '"tls_us":'
verdict broken BROKEN_FLOW "Step 3 (Bước ba)"
expect_contains "broken names the step number" "$J" '"failed_step":3'
verdict nocookie DOWN "HTTP 403"
verdict gone STALE "HTTP 404"
verdict removed STALE "HTTP 410"
verdict home STALE "lands on the portal's home page"
verdict unnamed STALE "no longer names the procedure"
verdict maint DOWN "Hệ thống đang bảo trì"
verdict error DOWN "HTTP 503"
verdict slow SLOW "over the objective of 200 ms"
verdict hang HANG "sent nothing back within 400 ms"
verdict stall HANG "stalled mid-transfer"
verdict deadline HANG "deadline of 700 ms"
verdict hole HANG "did not open within 400 ms"
verdict big DOWN "larger than the limit"
verdict private DOWN "Refused to connect to the loopback address 127.0.0.1"
verdict redirect DOWN "Refused to connect to the loopback address 127.0.0.1"
expect_contains "redirect: first hop reached" "$J" '"status":302'
verdict expired DOWN "certificate"
verdict selfsigned DOWN "certificate"
verdict fake TAMPERED "outside the official domains (portal.test)"
verdict ftp TAMPERED "not http or https"
verdict torn UNREADABLE "not a PNG or JPEG"
verdict snapok OK
expect_contains "snapshot decoded" "$J" '"decode_step":"as-is"'
verdict snaplan UNREADABLE "leads to the loopback address 127.0.0.1"
verdict snapgone UNREADABLE "the camera answered HTTP 404"

# every refused address class, checked as bare URLs (no catalog)
for a in 127.0.0.1 10.1.2.3 172.16.0.1 192.168.1.1 169.254.169.254 100.64.0.1 \
         224.0.0.1 0.0.0.0 '[::1]' '[fd00::1]' '[fe80::1]' '[ff02::1]' '[::ffff:192.168.1.1]'; do
    J=$("$PROBE" check --json "http://$a:9/" 2>/dev/null)
    expect_contains "refuses $a" "$J" "Refused to connect"
done

# no resolver at all: an empty network namespace, where no query can leave
# this machine, is a village link that is down, not a stale code (an
# NXDOMAIN from a real DNS server is STALE: test_real_servers)
if command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
    J=$(unshare -n "$PROBE" check --json "http://no-such-portal.invalid/" 2>/dev/null)
    expect_contains "no resolver reachable: DOWN" "$J" '"verdict":"DOWN"'
    expect_contains "and said to be the link's fault" "$J" "the village link or the resolver is down"
else
    fail "no resolver reachable" "unshare -n is not available (run as root)"
fi

# --emulate: the profile's round trip shows in the connect time, its
# bandwidth in the transfer time (4g: 60 ms, 10 Mbit/s = 1.25 MB/s)
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
J=$("$PROBE" check --json --allow-private 127.0.0.1 "http://127.0.0.1:$P/bytes/600000")
base_conn=$(field "$J" connect_us)
base_xfer=$(field "$J" transfer_us)
J=$("$PROBE" check --json --emulate 4g --allow-private 127.0.0.1 "http://127.0.0.1:$P/bytes/600000")
conn=$(field "$J" connect_us)
xfer=$(field "$J" transfer_us)
added=$(( (conn - base_conn) / 1000 ))
if [ "$added" -ge 58 ] && [ "$added" -le 70 ]; then
    pass "4g adds its 60 ms round trip to connect (measured +$added ms)"
else
    fail "4g adds its 60 ms round trip to connect" "measured +$added ms (base $base_conn us, emulated $conn us)"
fi
# bandwidth: 4g is 10 Mbit/s = 1.25 MB/s, so 600000 B take 480 ms
# (less the 16 KB burst, 13 ms)
if [ "$xfer" -ge 430000 ] && [ "$xfer" -le 560000 ] && [ "$base_xfer" -lt 100000 ]; then
    pass "4g caps the bandwidth (600 KB in $((xfer / 1000)) ms, $((base_xfer / 1000)) ms unshaped)"
else
    fail "4g caps the bandwidth" "600 KB took $xfer us shaped, $base_xfer us unshaped; expected about 467000"
fi
expect_run "unknown profile" 2 "$PROBE" check --emulate 6g http://127.0.0.1:9/
expect_contains "unknown profile named" "$ERR" "unknown --emulate profile '6g'"

# --interface binds the probe's connections
J=$("$PROBE" check --json --interface lo --allow-private 127.0.0.1 "http://127.0.0.1:$P/dvc/khai-sinh")
expect_contains "bound to lo" "$J" '"interface":"lo"'
expect_contains "bound check works" "$J" '"verdict":"OK"'
J=$("$PROBE" check --json --interface nosuch0 --allow-private 127.0.0.1 "http://127.0.0.1:$P/dvc/khai-sinh")
expect_contains "a missing interface is DOWN, not a crash" "$J" '"verdict":"DOWN"'

# waterfall: plain when piped, with every phase named
OUT=$("$PROBE" check -c "$CAT" $RESOLVE --english ok)
expect_contains "waterfall shows phases" "$OUT" "dns"
expect_contains "waterfall shows the verdict" "$OUT" "OK  All 2 steps passed"
case "$OUT" in *"$(printf '\033')"*) fail "no colour when piped" ;; *) pass "no colour when piped" ;; esac
expect_run "check --help" 0 "$PROBE" check --help
expect_contains "help lists profiles" "$OUT$(cat "$TMP/out")" "4g-weak"
expect_run "unknown target" 2 "$PROBE" check -c "$CAT" nope
expect_contains "unknown target named" "$ERR" "no target 'nope'"

# the router binary stays lean
L=$(ldd "$PROBE")
for lib in librrd libmicrohttpd libsqlite3; do
    case "$L" in *"$lib"*) fail "probe does not link $lib" ;; *) pass "probe does not link $lib" ;; esac
done

# --payload: a target's flow from an address to print, never with a URL
expect_run "check --payload with a URL" 2 "$PROBE" check --payload http://x.example/ http://y.example/
expect_contains "--payload with a URL said" "$ERR" "--payload goes with a TARGET-ID, not a URL"
expect_run "check --payload that is no URL" 2 "$PROBE" check -c targets/examples/xa-tan-an.catalog --payload khai-sinh ks-thon-dong
expect_contains "a payload that is no URL named" "$ERR" "--payload 'khai-sinh' is not a URL"
expect_run "check --payload of a payment code" 2 "$PROBE" check -c targets/examples/xa-tan-an.catalog --payload http://x.example/ le-phi-mot-cua
expect_contains "not a link: said" "$ERR" "target 'le-phi-mot-cua' is not a link"

finish
