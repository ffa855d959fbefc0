#!/bin/sh
# test_confirm.sh - a stale code's new address confirmed on the reprint page:
# login and the form's token, every bad form refused with nothing changed, the
# address walked by qrwatch-probe before it is written, the catalog file
# rewritten with its old version kept, the change in the database with who
# did it, qrwatchd reloading it on the same port, the poster then offered
# (its code read back), and the board judged against the new address: STALE
# while it shows the old code, OK once the new one is pinned up.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-confirm-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")
B="http://portal.test:$P"
NEW="$B/dvc/thu-tuc/xac-nhan-cu-tru"
"$QRWATCH" encode -o "$TMP/ks.png" "$B/dvc/khai-sinh" >/dev/null
"$QRWATCH" encode -o "$TMP/gone.png" "$B/gone" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[board c]\nplace = p\nlocation = Chợ\n'
printf '\n[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/ks.png"
printf 'payload = %s/dvc/khai-sinh\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n' "$B"
printf '\n# the code that went stale in the migration\n'
printf '[target gone]\nboard = c\nprocedure = Xác nhận cư trú\nimage = %s\n' "$TMP/gone.png"
printf 'payload = %s/gone\nofficial_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n' "$B"
printf 'procedure_code = 1.004227\nlookup = tim-theo-ma\n'
printf '\n[flow tim-theo-ma]\nname = Tìm theo mã thủ tục\n[step]\nname = Tìm\n'
printf 'url = %s/tim-kiem?ma={code}\ncapture = next body href="(/dvc/thu-tuc/[^"]+)"\n' "$B"
printf '[step]\nname = Trang tìm được\nurl = {next}\n'
} > "$TMP/c.catalog"
cp "$TMP/c.catalog" "$TMP/c.catalog.orig"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
USERLINE=$(printf 'mat-khau-can-bo\n' | "$SERVER" --hash-password can-bo-xa)
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
lookup_every = 2
lookup_resolve = portal.test:$P:127.0.0.1
# pages open to read; a confirm needs the login
public_pages = yes
$USERLINE
CONF
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
# probe_round N: run the probe until the database holds N results
probe_round() {
    "$PROBE" run -c "$TMP/probe.conf" 2>>"$TMP/probe.log" &
    dpid=$!
    i=0
    while [ "$(db 'SELECT count(*) FROM results' 2>/dev/null || echo 0)" -lt "$1" ] && [ $i -lt 200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill "$dpid"
    wait "$dpid"
}
probe_round 2
expect_eq "the migrated code is STALE" "$(db "SELECT verdict FROM latest WHERE target = 'gone'")" "STALE"

AUTH="can-bo-xa:mat-khau-can-bo"
get() { curl -s -u "$AUTH" -o "$TMP/got" -w '%{http_code}' "http://127.0.0.1:$S$1"; }
# post FIELDS [CURL-OPTIONS]: the confirm form, answered into $TMP/got
post() {
    f=$1
    shift
    curl -s -o "$TMP/got" -w '%{http_code}' "$@" --data "$f" "http://127.0.0.1:$S/stale/confirm"
}
i=0
while ! { get /stale > /dev/null && grep -q 'name="token"' "$TMP/got" && grep -q "value=\"$NEW\"" "$TMP/got"; } && [ $i -lt 40 ]; do
    sleep 0.5; i=$((i + 1))
done
expect_contains "the reprint page has the confirm form, the candidate filled in" "$(cat "$TMP/got")" \
    "<input type=\"url\" name=\"address\" required value=\"$NEW\""
expect_contains "and a hidden token" "$(cat "$TMP/got")" '<input type="hidden" name="target" value="gone"><input type="hidden" name="token" value="'
code() { curl -s -o "$TMP/got2" -w '%{http_code}' "$@"; }
expect_eq "public_pages: the reprint page without a login" "$(code "http://127.0.0.1:$S/stale")" "200"
expect_contains "offers to log in to confirm" "$(cat "$TMP/got2")" '<a href="/stale?login=1">Đăng nhập để xác nhận địa chỉ mới</a>'
expect_eq "and no form" "$(grep -c 'name="token"' "$TMP/got2")" "0"
expect_eq "the login link asks for the login" "$(code "http://127.0.0.1:$S/stale?login=1")" "401"
TOKEN=$(sed -n 's/.*name="token" value="\([0-9a-f]*\)".*/\1/p' "$TMP/got" | head -n 1)
expect_eq "the token is an HMAC-SHA256 in hex" "${#TOKEN}" "64"
expect_eq "no poster before it is confirmed" "$(get /poster/gone.pdf)" "409"

unchanged() { cmp -s "$TMP/c.catalog" "$TMP/c.catalog.orig" && [ "$(db 'SELECT count(*) FROM address_changes')" = 0 ]; }
expect_eq "no login: asked for one" "$(post "target=gone&address=$NEW&token=$TOKEN")" "401"
expect_eq "a wrong password: asked again" "$(post "target=gone&address=$NEW&token=$TOKEN" -u can-bo-xa:sai)" "401"
expect_eq "a forged form (no token): refused" "$(post "target=gone&address=$NEW" -u "$AUTH")" "403"
expect_contains "saying why, in Vietnamese" "$(cat "$TMP/got")" "Biểu mẫu không đến từ trang Mã cần in lại"
expect_eq "a form posted from another site: refused" "$(post "target=gone&address=$NEW&token=$TOKEN" -u "$AUTH" -H 'Origin: http://dvc-gia.example')" "403"
expect_eq "another target's token: refused" "$(post "target=ks&address=$NEW&token=$TOKEN" -u "$AUTH")" "403"
expect_eq "a repeated field: refused" "$(post "target=gone&target=ks&address=$NEW&token=$TOKEN" -u "$AUTH")" "400"
expect_eq "GET on the form's address: 405" "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "http://127.0.0.1:$S/stale/confirm")" "405"
expect_eq "an address off the official domains: refused" "$(post "target=gone&address=https://dichvucong-gia.example/x&token=$TOKEN" -u "$AUTH")" "422"
expect_contains "by the catalog's own check" "$(cat "$TMP/got")" "Danh mục không nhận địa chỉ này"
expect_eq "the dead address itself: refused" "$(post "target=gone&address=$B/gone&token=$TOKEN" -u "$AUTH")" "422"
expect_eq "an address on the portal that does not work: refused" "$(post "target=gone&address=$B/khong-co-trang-nay&token=$TOKEN" -u "$AUTH")" "422"
expect_contains "after walking it" "$(cat "$TMP/got")" "Đã đi thử địa chỉ $B/khong-co-trang-nay: không đạt."
if unchanged; then pass "every refusal left the catalog and the database as they were"
else fail "a refusal changed something" "$(diff "$TMP/c.catalog.orig" "$TMP/c.catalog")"; fi
expect_eq "the page still offers no poster" "$(get /poster/gone.pdf)" "409"

# requests all through the reload: none refused (the listening socket is kept)
( i=0; while [ $i -lt 120 ]; do curl -s -o /dev/null -m 10 -w '%{http_code}\n' "http://127.0.0.1:$S/healthz"; sleep 0.03; i=$((i + 1)); done ) > "$TMP/during.txt" &
LOOP=$!
expect_eq "the candidate confirmed (from the page itself)" "$(post "target=gone&address=$NEW&token=$TOKEN" -u "$AUTH" -H "Origin: http://127.0.0.1:$S")" "200"
expect_contains "the answer says it was checked and written" "$(cat "$TMP/got")" "Địa chỉ mới $NEW đã qua kiểm tra và được ghi vào danh mục"
expect_contains "the catalog has the new payload, the old one as replaces" "$(cat "$TMP/c.catalog")" \
    "payload = $NEW
replaces = $B/gone
official_domains = portal.test"
expect_contains "its comments kept" "$(cat "$TMP/c.catalog")" "# the code that went stale in the migration"
expect_eq "the change recorded with who did it" \
    "$(db "SELECT target || ' ' || who || ' ' || old_address || ' ' || new_address FROM address_changes")" \
    "gone can-bo-xa $B/gone $NEW"
HIST=$(db "SELECT history_file FROM address_changes")
if cmp -s "$HIST" "$TMP/c.catalog.orig"; then pass "the catalog as it was is kept in its history"
else fail "history file" "$HIST"; fi
"$QRWATCH" lint "$TMP/c.catalog" > "$TMP/lint.out" 2>&1
expect_eq "the rewritten catalog passes lint" "$?" "0"
i=0
while ! grep -q "reloading the configuration and the catalog" "$TMP/server.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_contains "qrwatchd reloaded" "$(cat "$TMP/server.log")" "target 'gone': new address confirmed by 'can-bo-xa'"
i=0
while [ "$(get /stale)" != 200 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "on the same port" "$(get /stale)" "200"
wait "$LOOP"
expect_eq "no request refused or lost while it reloaded" "$(grep -c . "$TMP/during.txt") $(grep -vc '^200$' "$TMP/during.txt")" "120 0"
expect_contains "the reprint page shows who confirmed what" "$(cat "$TMP/got")" \
    "Địa chỉ mới đã được xác nhận: <code>$NEW</code>, bởi can-bo-xa lúc"
expect_contains "and that the board waits for it" "$(cat "$TMP/got")" "Đang chờ dán mã mới"
expect_contains "with the poster now" "$(cat "$TMP/got")" 'href="/poster/gone.pdf"'
expect_eq "its PDF" "$(get /poster/gone.pdf)" "200"
expect_eq "is a PDF" "$(head -c 5 "$TMP/got")" "%PDF-"
expect_eq "its PNG" "$(get /poster/gone.png)" "200"
cp "$TMP/got" "$TMP/poster.png"
expect_run "the poster's code is read" 0 "$QRWATCH" decode --raw "$TMP/poster.png"
expect_eq "and holds the confirmed address" "$OUT" "$NEW"
expect_eq "a second confirm of the same address: nothing to replace" \
    "$(post "target=gone&address=$NEW&token=$TOKEN" -u "$AUTH")" "422"
expect_contains "saying so" "$(cat "$TMP/got")" "already has the address"

# the probe reads the rewritten catalog: the board still shows the old code
probe_round 4
expect_eq "the board with the old code: still STALE" "$(db "SELECT verdict FROM latest WHERE target = 'gone'")" "STALE"
expect_contains "waiting for the new poster, never TAMPERED" \
    "$(db "SELECT why_vi FROM latest WHERE target = 'gone'")" "Bảng vẫn còn mã cũ ($B/gone). Địa chỉ mới ($NEW) đã được xác nhận"
# the new poster pinned up (the photo of the board now shows it)
cp "$TMP/poster.png" "$TMP/gone.png"
probe_round 6
expect_eq "the board with the new code: OK" "$(db "SELECT verdict FROM latest WHERE target = 'gone'")" "OK"

# a reload (SIGHUP) of a catalog that does not load: the server goes on as it was
cp "$TMP/c.catalog" "$TMP/c.catalog.good"
printf '[target broken\n' >> "$TMP/c.catalog"
kill -HUP "$SPID"
i=0
while ! grep -q "not reloaded" "$TMP/server.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_contains "a bad catalog on SIGHUP is not loaded" "$(cat "$TMP/server.log")" "not reloaded, the server goes on as it was"
expect_eq "and the server still answers" "$(get /stale)" "200"
cp "$TMP/c.catalog.good" "$TMP/c.catalog"
kill "$SPID"
wait "$SPID"
expect_eq "qrwatchd stops cleanly after its reloads" "$?" "0"
finish
