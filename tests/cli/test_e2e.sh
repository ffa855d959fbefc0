#!/bin/sh
# test_e2e.sh - the demo, end to end and headless: `make demo`'s script
# with its portal, qrwatchd, SMTP receiver and two emulated probes, as real
# processes. Within 60 seconds of the start every case must show its
# verdict from each probe that checks it and every alert e-mail must have
# arrived; then
# the incidents, the RRD files (rrdtool fetch), 4G against 5G, and a
# Chromium walk of the pages; Ctrl-C must leave no process behind.
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
case "$QRW_BUILD" in /*) B="$QRW_BUILD" ;; *) B="$ROOT/$QRW_BUILD" ;; esac
D="$TMP/demo"
DPID=""
# signal a whole process group (dash's kill builtin takes no negative pid)
killpg() { /usr/bin/python3 -c 'import os, sys; os.killpg(int(sys.argv[1]), int(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
trap '[ -n "$DPID" ] && killpg "$DPID" 9; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
db() { sqlite3 "$D/data/qrwatch.db" "$1"; }
# what each probe sees: a board is read by the probe at its place (the
# catalog's `probe`), and the other probe walks the flow from the registered
# address; a payment code has no flow, so only its board's probe checks it
EXPECT="ks-thon-dong=OK@phuong-dong-ngan,OK@thon-dong kt-thon-dong=OK@phuong-dong-ngan,OK@thon-dong
kh-dong-ngan=OK@phuong-dong-ngan,OK@thon-dong ct-dong-ngan=OK@phuong-dong-ngan,OK@thon-dong
cu-tru-thon-dong=STALE@phuong-dong-ngan,STALE@thon-dong
trich-luc-dong-ngan=HANG@phuong-dong-ngan,HANG@thon-dong
hkd-dong-ngan=BROKEN_FLOW@phuong-dong-ngan,BROKEN_FLOW@thon-dong
ks-ngo-thon-dong=OK@phuong-dong-ngan,TAMPERED@thon-dong ct-thon-dong=OK@phuong-dong-ngan,TAMPERED@thon-dong
le-phi-dong-ngan=TAMPERED@phuong-dong-ngan kh-thon-dong=OK@phuong-dong-ngan,UNREADABLE@thon-dong"
FAILING="cu-tru-thon-dong trich-luc-dong-ngan hkd-dong-ngan ks-ngo-thon-dong ct-thon-dong le-phi-dong-ngan kh-thon-dong"

start=$(date +%s)
# as from a terminal: its own process group, and SIGINT not ignored (a shell
# starts background jobs with it ignored, and then no trap can catch it)
( cd "$ROOT" && DEMO_DIR="$D" DEMO_PORT=0 exec /usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("sh", ["sh", "targets/examples/demo.sh", sys.argv[1]])' "$B" ) > "$TMP/demo.out" 2>&1 &
DPID=$!
i=0
while [ ! -s "$D/ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$D/ready" ]; then
    fail "the demo starts" "$(cat "$TMP/demo.out")"
    finish
    exit 1
fi
URL=$(cat "$D/ready")
expect_contains "the demo prints the dashboard address" "$(cat "$TMP/demo.out")" "Dashboard:         $URL"

# every verdict from both probes, and every "opened" e-mail to IT staff
seen() {  # seen TARGET: "VERDICT@PROBE,..." of its latest results
    db "SELECT group_concat(verdict || '@' || probe) FROM (SELECT * FROM latest WHERE target = '$1' ORDER BY probe)" 2>/dev/null
}
verdicts_ok() {
    for pair in $EXPECT; do
        [ "$(seen "${pair%%=*}")" = "${pair#*=}" ] || return 1
    done
}
mails_ok() {
    [ "$(grep -l 'X-Envelope-To: it@huyen.example' "$D"/mail/*.eml 2>/dev/null | xargs -r grep -l 'X-Qrwatch-Event: opened' | wc -l)" -ge 7 ]
}
ready=""
while [ $(($(date +%s) - start)) -lt 90 ]; do
    if verdicts_ok && mails_ok; then ready=$(($(date +%s) - start)); break; fi
    sleep 1
done
if [ -n "$ready" ] && [ "$ready" -le 60 ]; then
    pass "every verdict and every alert e-mail within 60 s of the start ($ready s)"
else
    fail "every verdict and every alert e-mail within 60 s of the start" "after $(($(date +%s) - start)) s:" \
        "$(db "SELECT probe || ' ' || target || ' ' || verdict FROM latest ORDER BY target")" \
        "mails: $(ls "$D/mail" | wc -l)"
fi
for pair in $EXPECT; do
    expect_eq "${pair%%=*} is ${pair#*=}" "$(seen "${pair%%=*}")" "${pair#*=}"
done
expect_eq "the broken flow stops at step 3" "$(db "SELECT DISTINCT failed_step FROM latest WHERE target = 'hkd-dong-ngan'")" "3"

# incidents: one per failing code; a service's seen from both probes, a
# board's from the probe at its place (the other's OK does not close it)
JSON=$(curl -s "${URL}api/v1/incidents")
# the second probe's results may still be on their way
while [ $(($(date +%s) - start)) -lt 100 ] &&
      [ "$(db "SELECT count(*) FROM incident_probes")" -lt 10 ]; do sleep 1; done
for t in $FAILING; do
    case $t in ks-ngo-thon-dong|ct-thon-dong|le-phi-dong-ngan|kh-thon-dong) n=1 w="its board's probe" ;;
        *) n=2 w="both probes" ;; esac
    expect_eq "one open incident for $t, $w" "$(db "SELECT count(*) || ':' || (SELECT count(*) FROM incident_probes p WHERE p.incident = max(i.id)) FROM incidents i WHERE target = '$t' AND state = 'open'")" "1:$n"
done
expect_contains "the sticker beside the official code is named, with where it is" \
    "$(db "SELECT why_en FROM latest WHERE target = 'ct-thon-dong' AND probe = 'thon-dong'")" \
    "foreign code pointing to http://dvc-bacninh.test.nop-ho-so.com/chung-thuc: code 2 of 2"
expect_eq "no incident for a healthy code" "$(db "SELECT count(*) FROM incidents WHERE target IN ('ks-thon-dong','kt-thon-dong','kh-dong-ngan','ct-dong-ngan')")" "0"
# the stale code's new address: found by its procedure code, checked, as the demo says
LOOKUP=$(sed -n 's/^  \(.*qrwatch lookup .*\)$/\1/p' "$TMP/demo.out")
expect_contains "the demo names the lookup of the stale code" "$LOOKUP" "qrwatch lookup -c $D/demo.catalog"
expect_run "and it finds the address the portal moved the procedure to" 0 sh -c "cd '$ROOT' && $LOOKUP"
expect_eq "printed alone, checked" "$OUT" "$(sed -n 's/^resolve = \([^:]*\):\([0-9]*\):.*/http:\/\/\1:\2/p' "$D/thon-dong.conf")/dvc/thu-tuc/xac-nhan-cu-tru"
i=0
while ! curl -s "${URL}stale" | grep -q 'class="candidate"' && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
expect_contains "the reprint page shows that address beside the dead one, to be confirmed" \
    "$(curl -s "${URL}stale")" "xac-nhan-cu-tru</code>. Đã đi thử như người dân quét mã: hoạt động"
expect_eq "no uplink incident: the villages' links are fine" "$(db "SELECT count(*) FROM incidents WHERE kind = 'uplink'")" "0"
expect_contains "the JSON API lists them" "$JSON" '"target":"trich-luc-dong-ngan","verdict":"HANG","state":"open"'

# the e-mails went to the right people, once the outbox has sent them all
i=0
while [ "$(db "SELECT count(*) FROM outbox WHERE state = 'pending'")" != 0 ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
/usr/bin/python3 "$ROOT/tests/fixture/mailread.py" "$D/mail" > "$TMP/mails.txt"
expect_eq "IT staff: one e-mail per failing code" "$(grep -c 'it@huyen.example	opened' "$TMP/mails.txt")" "7"
expect_eq "Xã Tân An: its four boards' codes" "$(grep -c 'vanphong@tanan.example	opened' "$TMP/mails.txt")" "4"
expect_eq "Phường Đông Ngàn: its three" "$(grep -c 'vanphong@dongngan.example	opened' "$TMP/mails.txt")" "3"
F=$(grep 'vanphong@tanan.example	opened' "$TMP/mails.txt" | grep 'Xác nhận thông tin cư trú' | cut -f 1)
BODY=$(/usr/bin/python3 "$ROOT/tests/fixture/mailread.py" "$D/mail" "$F")
expect_contains "the stale code's e-mail says where" "$BODY" "Bảng tin: Nhà văn hoá thôn Đông, bảng tin ngoài hiên"
expect_contains "and what to do: not to print the dead code again" "$BODY" "Cần làm: Đừng in lại mã đang dán: địa chỉ trong mã không còn dẫn tới thủ tục."
expect_eq "a stale board seen from two probes is no news: no update" "$(grep 'changed' "$TMP/mails.txt" | grep -c 'Xác nhận thông tin cư trú')" "0"
expect_contains "and links to the target page" "$BODY" "Xem chi tiết: ${URL}target/cu-tru-thon-dong"
F=$(grep 'it@huyen.example	changed' "$TMP/mails.txt" | grep 'Cấp bản sao trích lục' | cut -f 1)
expect_contains "the hanging service, seen from the second probe too: an update, about the service" \
    "$(/usr/bin/python3 "$ROOT/tests/fixture/mailread.py" "$D/mail" "$F")" "lỗi từ 2 điểm đo"

# the time series: RRD files read back by the stock rrdtool, 4G slower than 5G
RRD="$D/data/rrd/thon-dong/ks-thon-dong.rrd"
got=""
while [ $(($(date +%s) - start)) -lt 150 ]; do
    got=$(rrd "$D/data" fetch "$RRD" AVERAGE --start end-10min --end now 2>/dev/null | grep -v nan | grep -c ': 1.0000000000e+00')
    [ "$got" -ge 1 ] && break
    sleep 2
done
expect_eq "rrdtool fetch: the healthy code available at a full minute" "$([ "${got:-0}" -ge 1 ] && echo yes)" "yes"
expect_contains "rrdtool fetch: the hanging code unavailable" "$(rrd "$D/data" lastupdate "$D/data/rrd/thon-dong/trich-luc-dong-ngan.rrd")" ": 0 "
# a board judged alone timed nothing: its phases are unknown, never 0 ms
expect_contains "rrdtool lastupdate: a fake sticker's board has no latency" \
    "$(rrd "$D/data" lastupdate "$D/data/rrd/thon-dong/ks-ngo-thon-dong.rrd")" " U U U U U 0 "
AVG=$(db "SELECT group_concat(uplink || '=' || ms) FROM (SELECT uplink, CAST(avg(total_us) / 1000 AS INTEGER) AS ms FROM results WHERE target IN ('ks-thon-dong','kt-thon-dong','kh-dong-ngan','ct-dong-ngan') GROUP BY uplink ORDER BY uplink)")
g4=$(echo "$AVG" | sed 's/.*4g=\([0-9]*\).*/\1/')
g5=$(echo "$AVG" | sed 's/.*5g=\([0-9]*\).*/\1/')
expect_eq "4G village slower than 5G ward ($AVG ms)" "$([ "$g4" -gt "$g5" ] && echo yes)" "yes"
for p in thon-dong phuong-dong-ngan; do
    expect_eq "latency graph for $p" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "${URL}graph/$p/ks-thon-dong/day.png")" "200 image/png"
done
# a poster only of an address checked working: never the stale code's own
curl -s "${URL}stale" > "$TMP/stale.html"
expect_eq "the reprint page offers no poster of the stale code" "$(grep -c '/poster/cu-tru-thon-dong' "$TMP/stale.html")" "0"
expect_contains "and says why" "$(cat "$TMP/stale.html")" "Không in lại mã này: địa chỉ trong mã không còn dẫn tới thủ tục"
expect_eq "nor does the poster address serve it" "$(curl -s -o /dev/null -w '%{http_code}' "${URL}poster/cu-tru-thon-dong.png")" "409"
expect_contains "the fake sticker's board gets the official code, checked on another board" \
    "$(cat "$TMP/stale.html")" '<a href="/target/ks-thon-dong">ks-thon-dong</a>: OK.</p><p>Mã thay thế để in:</p><img class="poster" alt="ks-ngo-thon-dong" src="/poster/ks-ngo-thon-dong.svg"'
expect_contains "with its PDF on A5 and on A4" "$(cat "$TMP/stale.html")" \
    '<a href="/poster/ks-ngo-thon-dong.pdf">Tải tờ dán để in (PDF, khổ A5)</a> · <a href="/poster/ks-ngo-thon-dong.pdf?size=a4">khổ A4</a>'
expect_eq "a replacement poster is a PNG" "$(curl -s "${URL}poster/ks-ngo-thon-dong.png" | head -c 4 | od -An -c | tr -d ' ')" "211PNG"
curl -s -o "$TMP/p.png" "${URL}poster/ks-ngo-thon-dong.png"
expect_eq "and decodes to the official address, the one checked OK" "$("$B/qrwatch" decode --raw "$TMP/p.png")" \
    "$(awk '/^\[target ks-thon-dong\]/ { f = 1 } f && /^payload/ { print $3; exit }' "$D/demo.catalog")"

# Chromium walks the demo: overview, a stale code, the stale-codes page, English
SHOTS="$B/test-output"
mkdir -p "$SHOTS"
chrome() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --hide-scrollbars --user-data-dir="$TMP/chromium" "$@" 2>/dev/null
}
if command -v chromium >/dev/null; then
    DOM=$(chrome --dump-dom "$URL")
    for v in OK STALE HANG BROKEN_FLOW TAMPERED UNREADABLE; do
        expect_contains "browser: overview shows $v" "$DOM" "<span class=\"v $v\">$v</span>"
    done
    expect_contains "browser: Vietnamese rendered" "$DOM" "Thôn Đông, Xã Tân An, Tỉnh Bắc Ninh"
    expect_contains "browser: open incidents on the overview" "$DOM" "Sự cố đang mở"
    DOM=$(chrome --dump-dom "${URL}target/cu-tru-thon-dong")
    expect_contains "browser: the stale code's page" "$DOM" "<h1>Xác nhận thông tin cư trú</h1>"
    expect_contains "browser: its verdict" "$DOM" '<span class="v STALE">STALE</span>'
    DOM=$(chrome --dump-dom "${URL}stale")
    expect_contains "browser: stale-codes page in Vietnamese" "$DOM" "Mã cần in lại"
    expect_contains "browser: a poster of a checked address" "$DOM" "/poster/ks-ngo-thon-dong"
    expect_contains "browser: none of the stale one" "$DOM" "Không in lại mã này"
    DOM=$(chrome --dump-dom "${URL}?lang=en")
    expect_contains "browser: switched to English" "$DOM" "Open incidents"
    expect_contains "browser: Vietnamese names kept in English" "$DOM" "Xác nhận thông tin cư trú"
    chrome --screenshot="$SHOTS/demo-overview.png" --window-size=1280,1000 "$URL" >/dev/null
    chrome --screenshot="$SHOTS/demo-stale-target.png" --window-size=1280,1400 "${URL}target/cu-tru-thon-dong" >/dev/null
    chrome --screenshot="$SHOTS/demo-stale.png" --window-size=1000,1400 "${URL}stale" >/dev/null
    chrome --screenshot="$SHOTS/demo-overview-en.png" --window-size=1280,1000 "${URL}?lang=en" >/dev/null
    for f in demo-overview demo-stale-target demo-stale demo-overview-en; do
        expect_eq "browser: screenshot $f.png saved" "$(head -c 4 "$SHOTS/$f.png" 2>/dev/null | od -An -c | tr -d ' ')" "211PNG"
    done
    # an official confirms the stale code's new address in the browser, with the
    # login the demo prints; the poster of the new address follows
    LOGIN=$(tr '\n' ' ' < "$TMP/demo.out" | sed -n 's/.*"Đăng nhập để xác nhận": \([^,]*\), *password \([^)]*\)).*/\1:\2/p')
    expect_contains "the demo prints a login to confirm with" "$LOGIN" "can-bo-huyen:"
    BR="/usr/bin/python3 tests/fixture/browser.py --profile $TMP/cdp"
    T=cu-tru-thon-dong
    $BR goto "${URL}stale" \
        print "document.querySelector('a[href=\"/stale?login=1\"]') ? 'login-link' : 'none'" \
        auth "$LOGIN" goto "${URL}stale?login=1" \
        print "document.querySelector('form.confirm input[name=address]').value" \
        shot "$SHOTS/demo-confirm-form.png" \
        submit "form.confirm button" \
        print "document.querySelector('h1').innerText" \
        print "document.querySelector('main').innerText" \
        goto "${URL}stale" \
        wait "document.querySelector('img[src=\"/poster/$T.svg\"]') !== null" 30 \
        print "document.querySelector('img[src=\"/poster/$T.svg\"]').naturalWidth > 0" \
        print "document.querySelector('p.confirmed').innerText" \
        shot "$SHOTS/demo-confirmed.png" > "$TMP/walk.out" 2> "$TMP/walk.err"
    expect_eq "browser: the confirm walk ran" "$?" "0"
    NEWADDR=$(sed -n 2p "$TMP/walk.out")
    expect_eq "browser: without a login, a link to log in" "$(sed -n 1p "$TMP/walk.out")" "login-link"
    expect_contains "browser: logged in, the form holds the address found" "$NEWADDR" "/dvc/thu-tuc/xac-nhan-cu-tru"
    expect_eq "browser: confirming answers Đã xác nhận" "$(sed -n 3p "$TMP/walk.out")" "Đã xác nhận"
    expect_contains "browser: after the server walked it again" "$(sed -n 4p "$TMP/walk.out")" "đã qua kiểm tra và được ghi vào danh mục"
    expect_eq "browser: the reloaded page shows the new poster" "$(sed -n 5p "$TMP/walk.out")" "true"
    expect_contains "browser: naming who confirmed it" "$(sed -n 6p "$TMP/walk.out")" "bởi can-bo-huyen lúc"
    expect_contains "the demo's catalog now holds the new address" "$(cat "$D/demo.catalog")" "replaces = "
    curl -s -o "$TMP/new.png" "${URL}poster/$T.png"
    expect_eq "the new poster decodes to the confirmed address" "$("$B/qrwatch" decode --raw "$TMP/new.png")" "$NEWADDR"
    expect_eq "its PDF is served" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "${URL}poster/$T.pdf")" "200 application/pdf"
    # the board waits for its new code; the official sends the photo of the new
    # poster pinned up, which the demo made, from the board's page, as a phone would
    PHOTO=$(sed -n 's/^  \(.*cu-tru-thon-dong-moi.jpg\)$/\1/p' "$TMP/demo.out")
    expect_contains "the demo names the photo to send" "$PHOTO" "boards/cu-tru-thon-dong-moi.jpg"
    $BR auth "$LOGIN" goto "${URL}board/nvh-thon-dong/photo" \
        print "document.querySelector('input[type=file]').getAttribute('capture')" \
        shot "$SHOTS/demo-photo-form.png" 390 844 \
        file "input[type=file]" "$PHOTO" \
        submit "form.photo button" \
        print "document.querySelector('h1').innerText" \
        print "document.querySelector('main li').innerText" \
        shot "$SHOTS/demo-photo-taken.png" 390 844 \
        goto "${URL}board/nvh-thon-dong/photo" \
        print "document.documentElement.scrollWidth <= window.innerWidth" \
        shot "$SHOTS/demo-photo-page.png" 390 844 > "$TMP/photo.out" 2> "$TMP/photo.err"
    expect_eq "browser: the photo walk ran" "$?" "0"
    expect_eq "browser: the upload opens the phone's camera" "$(sed -n 1p "$TMP/photo.out")" "environment"
    expect_eq "browser: the photo is taken" "$(sed -n 2p "$TMP/photo.out")" "Đã nhận ảnh"
    expect_contains "browser: its code is the new one, OK" "$(sed -n 3p "$TMP/photo.out")" ": Mã chính thức: liên kết $NEWADDR"
    expect_eq "browser: the board's page with its photo fits a phone (390 px)" "$(sed -n 4p "$TMP/photo.out")" "true"
    i=0
    while [ "$(db "SELECT state FROM incidents WHERE kind = 'target' AND target = '$T' ORDER BY id DESC LIMIT 1")" != resolved ] && [ $i -lt 120 ]; do
        sleep 1; i=$((i + 1))
    done
    echo "     (resolved $i s after the photo)"
    expect_eq "the stale code's incident resolved, the photo its evidence" \
        "$(db "SELECT state FROM incidents WHERE kind = 'target' AND target = '$T' ORDER BY id DESC LIMIT 1")" "resolved"
    expect_eq "the code is OK again" "$(db "SELECT verdict FROM target_state WHERE target = '$T'")" "OK"
    expect_contains "its page shows the photo" "$(curl -s "${URL}target/$T")" 'src="/board/nvh-thon-dong/photo.img"'
else
    fail "browser walk" "chromium is not installed (.ci/deps installs it)"
fi

# Ctrl-C stops everything cleanly
killpg "$DPID" 2	# SIGINT to the whole process group, as Ctrl-C does
i=0
while kill -0 "$DPID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "     (stopped $i tenths of a second after Ctrl-C)"
expect_contains "Ctrl-C: the demo says it stopped" "$(cat "$TMP/demo.out")" "qrwatch demo stopped"
sleep 0.5
expect_eq "Ctrl-C: no process left behind" "$(pgrep -fa "$D")" ""
DPID=""
finish
