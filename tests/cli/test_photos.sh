#!/bin/sh
# test_photos.sh - board photos from officials' phones: the upload page and
# its login and token, every bad upload refused with nothing kept (forged,
# oversized, not an image, no code on it, a board that takes none), a photo
# decoded and judged by qrwatchd as a probe would and kept as evidence; and
# the loop of a stale code on a board with no camera: its new address
# confirmed, the board waiting for the new code while the probes already
# find the address working, and the incident resolved by the photo of the
# new poster pinned up.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
PY=/usr/bin/python3
PIDS=""
NGINX=""
# nginx's master stops its workers on TERM (a KILL would leave them behind)
trap '[ -n "$NGINX" ] && kill "$NGINX" 2>/dev/null && wait "$NGINX"; for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-photo-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")
B="http://portal.test:$P"
NEW="$B/dvc/thu-tuc/xac-nhan-cu-tru"
"$QRWATCH" encode -o "$TMP/ks.png" "$B/dvc/khai-sinh" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[board c]\nplace = p\nlocation = Chợ thôn Đông\n'
printf '\n[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/ks.png"
printf 'payload = %s/dvc/khai-sinh\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n' "$B"
printf '\n# no camera at the market: officials photograph the board\n'
printf '[target cu-tru]\nboard = c\nprocedure = Xác nhận cư trú\nimage = uploads\n'
printf 'payload = %s/gone\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n' "$B"
printf 'procedure_code = 1.004227\nlookup = tim-theo-ma\n'
printf '\n[flow tim-theo-ma]\nname = Tìm theo mã thủ tục\n[step]\nname = Tìm\n'
printf 'url = %s/tim-kiem?ma={code}\ncapture = next body href="(/dvc/thu-tuc/[^"]+)"\n' "$B"
printf '[step]\nname = Trang tìm được\nurl = {next}\n'
} > "$TMP/c.catalog"
expect_run "a catalog with a board of uploaded photos passes lint" 0 "$QRWATCH" lint "$TMP/c.catalog"
sed 's|^payload = .*/gone$||' "$TMP/c.catalog" > "$TMP/nopayload.catalog"
expect_run "lint: an uploaded board's code without payload" 1 "$QRWATCH" lint "$TMP/nopayload.catalog"
expect_contains "lint says why" "$OUT$ERR" "target 'cu-tru' has its photos uploaded to qrwatchd, so the probes walk its flow from its address: give it 'payload'"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
USERLINE=$(printf 'mat-khau-can-bo\n' | "$SERVER" --hash-password can-bo-xa)
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
lookup_every = 2
lookup_resolve = portal.test:$P:127.0.0.1
alert_open_after = 1
public_pages = yes
$USERLINE
CONF
printf 'probe = anh-tai-len %s\n' "$TMP/probe.secret" | cat "$TMP/qrwatchd.conf" - > "$TMP/reserved.conf"
expect_run "the photo probe's name is the server's own" 2 "$SERVER" -t -c "$TMP/reserved.conf"
expect_contains "saying so" "$ERR" "probe id 'anh-tai-len' is the server's own"
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>"$TMP/server.log" &
SPID=$!
PIDS="$PIDS $SPID"
wait_file "$TMP/server.port"
S=$(cat "$TMP/server.port")
cat > "$TMP/probe.conf" <<CONF
probe_id = thon-dong-1
secret_file = $TMP/probe.secret
server = http://127.0.0.1:$S/api/v1/ingest
catalog = $TMP/c.catalog
uplink = 4g
spool_dir = $TMP/spool
resolve = portal.test:$P:127.0.0.1
push_interval = 1
first_push_delay_max = 0
flush_every = 1
CONF
probe_round() {
    "$PROBE" run -c "$TMP/probe.conf" 2>>"$TMP/probe.log" &
    dpid=$!
    i=0
    while [ "$(db "SELECT count(*) FROM results WHERE probe = 'thon-dong-1'" 2>/dev/null || echo 0)" -lt "$1" ] && [ $i -lt 200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill "$dpid"
    wait "$dpid"
}
probe_round 2
expect_eq "the probe walks the uploaded board's flow from its payload: STALE" \
    "$(db "SELECT verdict || ' ' || nsteps FROM latest WHERE target = 'cu-tru'")" "STALE 1"
expect_eq "an incident is open" "$(db "SELECT count(*) FROM incidents WHERE target = 'cu-tru' AND state = 'open'")" "1"

AUTH="can-bo-xa:mat-khau-can-bo"
U="http://127.0.0.1:$S"
code() { curl -s -o "$TMP/got" -w '%{http_code}' "$@"; }
expect_eq "the board's photo page, open to read" "$(code "$U/board/c/photo")" "200"
expect_contains "no photo yet, and a link to log in" "$(cat "$TMP/got")" '<a href="/board/c/photo?login=1">Đăng nhập để gửi ảnh bảng tin</a>'
expect_eq "a board whose photos a probe reads has no upload page" "$(code "$U/board/b/photo")" "404"
expect_eq "logged in" "$(code -u "$AUTH" "$U/board/c/photo?login=1")" "200"
expect_contains "the form opens a phone's camera" "$(cat "$TMP/got")" '<input type="file" name="photo" accept="image/*" capture="environment" required>'
expect_contains "and is sent as multipart" "$(cat "$TMP/got")" 'enctype="multipart/form-data" action="/board/c/photo"'
TOKEN=$(sed -n 's/.*name="token" value="\([0-9a-f]*\)".*/\1/p' "$TMP/got" | head -n 1)
expect_eq "with a token" "${#TOKEN}" "64"
expect_contains "the reprint page links the board's photo page" "$(code "$U/stale"; cat "$TMP/got")" '<a href="/board/c/photo">Gửi ảnh bảng tin</a>'

# photos: the old code as posted, a page of text, a blank picture, one too large
"$QRWATCH" encode --photo 4 -o "$TMP/old.jpg" "$B/gone" >/dev/null
printf 'not a photo at all\n' > "$TMP/text.jpg"
$PY -c '
import struct, sys, zlib
w = h = 300
raw = b"".join(b"\0" + b"\xff" * w for _ in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))' > "$TMP/blank.png"
head -c 17000000 /dev/zero > "$TMP/huge.jpg"
# upload FILE [CURL-OPTIONS]: the photo form for board c (BOARD=... for another)
upload() {
    f=$1
    shift
    curl -s -o "$TMP/got" -w '%{http_code}' "$@" -F "token=$TOKEN" -F "photo=@$f" \
        "$U/board/${BOARD:-c}/photo"
}
nothing_kept() {
    [ "$(db 'SELECT count(*) FROM board_photos')" = 0 ] &&
    [ "$(db "SELECT count(*) FROM results WHERE probe = 'anh-tai-len'")" = 0 ] &&
    [ -z "$(ls "$TMP/data/photos" 2>/dev/null)" ]
}
expect_eq "no login: asked for one" "$(upload "$TMP/old.jpg")" "401"
expect_eq "a forged form (another token): refused" "$(curl -s -o "$TMP/got" -w '%{http_code}' -u "$AUTH" -F "token=00$TOKEN" -F "photo=@$TMP/old.jpg" "$U/board/c/photo")" "403"
expect_eq "from another site: refused" "$(upload "$TMP/old.jpg" -u "$AUTH" -H 'Origin: http://gia-mao.example')" "403"
expect_eq "not an image: refused" "$(upload "$TMP/text.jpg" -u "$AUTH")" "422"
expect_contains "saying so" "$(cat "$TMP/got")" "Tệp không phải ảnh JPEG hay PNG."
expect_eq "a photo with no code: refused" "$(upload "$TMP/blank.png" -u "$AUTH")" "422"
expect_contains "asking for another" "$(cat "$TMP/got")" "Không đọc được mã QR nào trên ảnh. Hãy chụp lại"
expect_eq "a file over 16 MB: refused before it is read" "$(upload "$TMP/huge.jpg" -u "$AUTH")" "413"
expect_eq "a board that takes no uploads: refused" "$(BOARD=b upload "$TMP/old.jpg" -u "$AUTH")" "404"
if nothing_kept; then pass "every refused photo left nothing behind"
else fail "a refused photo was kept" "$(db 'SELECT * FROM board_photos')"; fi

expect_eq "the board's photo, as posted: taken" "$(upload "$TMP/old.jpg" -u "$AUTH")" "200"
expect_contains "judged on the server, naming the photo" "$(cat "$TMP/got")" '<span class="v OK">OK</span> Ảnh bảng tin do can-bo-xa gửi lúc '
expect_contains "and what was read on it" "$(cat "$TMP/got")" ": Mã chính thức: liên kết $B/gone đúng như đã đăng ký"
expect_eq "kept once, with who sent it" "$(db "SELECT board || ' ' || who || ' ' || summary FROM board_photos")" "c can-bo-xa cu-tru: OK"
PHOTO=$(db "SELECT file FROM board_photos")
if cmp -s "$PHOTO" "$TMP/old.jpg"; then pass "the photo is kept as it came"; else fail "photo kept" "$PHOTO"; fi
expect_eq "served back as evidence" "$(code "$U/board/c/photo.img"; cmp -s "$TMP/got" "$TMP/old.jpg" && echo same)" "200same"
expect_eq "a result of the photo probe, through ingest" "$(db "SELECT verdict || ' ' || nsteps FROM latest WHERE probe = 'anh-tai-len' AND target = 'cu-tru'")" "OK 0"
expect_eq "the flow still decides: STALE" "$(db "SELECT verdict FROM target_state WHERE target = 'cu-tru'")" "STALE"
expect_contains "the target page shows the photo" "$(code "$U/target/cu-tru"; cat "$TMP/got")" '<img alt="Ảnh bảng tin" src="/board/c/photo.img" width="240">'

# the new address confirmed: the board now waits for the new code
i=0
while ! { code -u "$AUTH" "$U/stale" > /dev/null && grep -q "value=\"$NEW\"" "$TMP/got"; } && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
CTOKEN=$(sed -n 's/.*name="target" value="cu-tru"><input type="hidden" name="token" value="\([0-9a-f]*\)".*/\1/p' "$TMP/got")
expect_eq "the new address confirmed" "$(curl -s -o "$TMP/got" -w '%{http_code}' -u "$AUTH" --data "target=cu-tru&address=$NEW&token=$CTOKEN" "$U/stale/confirm")" "200"
i=0
while [ "$(grep -c 'listening on' "$TMP/server.log")" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_contains "the board waits for the new code" "$(db "SELECT why_vi FROM latest WHERE probe = 'anh-tai-len' AND target = 'cu-tru'")" \
    "Bảng vẫn còn mã cũ ($B/gone). Địa chỉ mới ($NEW) đã được xác nhận"
probe_round 4
probe_round 6	# two checks: as many OK results as resolve an incident
expect_eq "the probe finds the new address working" "$(db "SELECT verdict FROM latest WHERE probe = 'thon-dong-1' AND target = 'cu-tru'")" "OK"
expect_eq "but the board still shows the old code: STALE" "$(db "SELECT verdict FROM target_state WHERE target = 'cu-tru'")" "STALE"
expect_eq "and its incident stays open" "$(db "SELECT count(*) FROM incidents WHERE target = 'cu-tru' AND state = 'open'")" "1"
# this one through nginx, set up as docs/api.md says (its block, as written there)
N="$TMP/nginx"
mkdir -p "$N/logs" "$N/tmp"
NP=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
    [ "$(id -u)" -eq 0 ] && printf 'user root;\n'
    printf 'worker_processes 1;\nerror_log %s/logs/error.log;\npid %s/nginx.pid;\n' "$N" "$N"
    printf 'events { worker_connections 64; }\nhttp {\n access_log %s/logs/access.log;\n' "$N"
    printf ' client_body_temp_path %s/tmp;\n proxy_temp_path %s/tmp;\n' "$N" "$N"
    printf ' fastcgi_temp_path %s/tmp;\n uwsgi_temp_path %s/tmp;\n scgi_temp_path %s/tmp;\n' "$N" "$N" "$N"
    printf ' server {\n  listen 127.0.0.1:%s;\n' "$NP"
    sed -n '/^```nginx$/,/^```$/p' "$(dirname "$0")/../../docs/api.md" | sed '1d;$d' | sed "s|127.0.0.1:8080|127.0.0.1:$S|"
    printf ' }\n}\n'
} > "$N/nginx.conf"
nginx -p "$N" -c "$N/nginx.conf" -g 'daemon off;' >"$N/out.log" 2>"$N/start.log" &
NGINX=$!
i=0
while [ $i -lt 100 ] && ! curl -fs "http://127.0.0.1:$NP/healthz" >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
expect_eq "a photo of the board still showing the old code, through nginx" \
    "$(U="http://127.0.0.1:$NP" upload "$TMP/old.jpg" -u "$AUTH" -H "Origin: http://127.0.0.1:$NP")" "200"
expect_contains "is judged STALE, waiting" "$(cat "$TMP/got")" ": Bảng vẫn còn mã cũ ($B/gone)"
expect_eq "the incident still open" "$(db "SELECT count(*) FROM incidents WHERE target = 'cu-tru' AND state = 'open'")" "1"
# the new poster, printed from the dashboard, pinned up and photographed
code "$U/poster/cu-tru.png" > /dev/null
"$QRWATCH" encode --photo -3 -o "$TMP/new.jpg" "$("$QRWATCH" decode --raw "$TMP/got")" >/dev/null
expect_eq "the photo of the new poster on the board" "$(upload "$TMP/new.jpg" -u "$AUTH")" "200"
expect_contains "is OK" "$(cat "$TMP/got")" '<span class="v OK">OK</span>'
expect_eq "the code is OK again" "$(db "SELECT verdict FROM target_state WHERE target = 'cu-tru'")" "OK"
expect_eq "and the incident resolved by that photo" "$(db "SELECT state FROM incidents WHERE target = 'cu-tru'")" "resolved"
expect_eq "two photos kept besides, three in all" "$(db 'SELECT count(*) FROM board_photos')" "3"
expect_eq "the latest is the new poster's" "$(code "$U/board/c/photo.img"; cmp -s "$TMP/got" "$TMP/new.jpg" && echo same)" "200same"
# a photo of another board by mistake: what it shows is judged, and the answer says what to do
expect_eq "a photo of another board's code" "$(upload "$TMP/ks.png" -u "$AUTH")" "200"
expect_contains "is judged as it is: TAMPERED" "$(cat "$TMP/got")" '<span class="v TAMPERED">TAMPERED</span>'
expect_contains "with a word on a photo taken of the wrong board" "$(cat "$TMP/got")" "Nếu ảnh này chụp nhầm bảng tin khác, hãy gửi lại ảnh đúng bảng này"
expect_contains "the photo page names the board's place and codes" "$(code -u "$AUTH" "$U/board/c/photo"; cat "$TMP/got")" \
    "<p>Xã Tân An, Tỉnh Bắc Ninh — Chợ thôn Đông</p><ul><li><a href=\"/target/cu-tru\">Xác nhận cư trú</a></li></ul>"
kill "$SPID"
wait "$SPID"
expect_eq "qrwatchd stops cleanly" "$?" "0"
finish
