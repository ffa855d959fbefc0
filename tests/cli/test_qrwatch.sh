#!/bin/sh
# test_qrwatch.sh - the qrwatch command line as a desk officer and a script use it.
. "$(dirname "$0")/lib.sh"
CAT=targets/examples/xa-tan-an.catalog

# help and usage
expect_run "help" 0 "$QRWATCH" --help
expect_contains "help lists decode" "$OUT" "decode"
for c in decode lint poster encode; do
    expect_run "$c --help" 0 "$QRWATCH" "$c" --help
    expect_contains "$c --help names usage" "$OUT" "usage: qrwatch $c"
done
expect_run "unknown command" 2 "$QRWATCH" frobnicate
expect_contains "unknown command is named" "$ERR" "unknown command 'frobnicate'"
expect_run "decode without images" 2 "$QRWATCH" decode

# lint
expect_run "lint example" 0 "$QRWATCH" lint "$CAT"
expect_contains "lint counts" "$OUT" "3 places, 3 boards, 9 targets, 1 flows"
cat > "$TMP/bad.catalog" <<'CAT'
[place p]
province = Tỉnh Bắc Ninh
commune = Xã Tân An

[board b]
place = q
location = Đình làng

[target t]
board = b
procedure = Đăng ký khai sinh
image = t.png
official_domains = dichvucong.gov.vn
intervl = 5m
CAT
expect_run "lint bad catalog" 1 "$QRWATCH" lint "$TMP/bad.catalog"
expect_contains "lint names file:line and did-you-mean" "$ERR" \
    "$TMP/bad.catalog:14: unknown key 'intervl' in [target] (did you mean 'interval'?)"
expect_contains "lint names unknown place" "$ERR" "$TMP/bad.catalog:6: board 'b' names unknown place 'q'"

# encode and decode --raw (what scripts use)
expect_run "encode" 0 "$QRWATCH" encode -o "$TMP/x.png" "Thủ tục: Đăng ký kết hôn"
expect_run "decode --raw" 0 "$QRWATCH" decode --raw "$TMP/x.png"
expect_eq "decode --raw prints the text" "$OUT" "Thủ tục: Đăng ký kết hôn"
printf 'not an image' > "$TMP/junk.png"
expect_run "decode --raw on junk" 1 "$QRWATCH" decode --raw "$TMP/junk.png"
expect_eq "decode --raw prints nothing for junk" "$OUT" ""
expect_contains "decode --raw says why on stderr" "$ERR" "not a PNG or JPEG image"

# a terminal never receives control characters from a code
expect_run "encode --photo with an impossible tilt" 2 "$QRWATCH" encode --photo 90 -o "$TMP/t.jpg" "x"
expect_contains "the tilt named" "$ERR" "--photo takes a tilt from -45 to 45 degrees, got '90'"
expect_run "encode --photo as JPEG" 0 "$QRWATCH" encode -s 6 --photo 5 -o "$TMP/photo.jpg" "Đăng ký khai sinh"
expect_run "the photographed code reads back" 0 "$QRWATCH" decode --raw "$TMP/photo.jpg"
expect_eq "its text" "$OUT" "Đăng ký khai sinh"
expect_run "encode escape" 0 "$QRWATCH" encode -o "$TMP/esc.png" "$(printf 'ok\033[2Jgone')"
expect_run "decode shows escapes" 0 "$QRWATCH" decode "$TMP/esc.png"
expect_contains "escape shown as \\x1b" "$OUT" 'ok\x1b[2Jgone'

# every board of the example catalog, judged
expect_run "decode --all" 1 "$QRWATCH" decode -c "$CAT" --all --english
for t in ks-thon-dong kt-thon-dong kh-mot-cua ct-mot-cua xn-hon-nhan-mot-cua le-phi-mot-cua; do
    v=$(printf '%s\n' "$OUT" | awk -v t="(target $t)" 'index($0, t) {f=1} f && /verdict:/ {print $2; exit}')
    expect_eq "verdict of $t" "$v" "OK"
done
v=$(printf '%s\n' "$OUT" | awk '/target ks-thon-doai/ {f=1} f && /verdict:/ {print $2; exit}')
expect_eq "fake sticker is TAMPERED" "$v" "TAMPERED"
expect_contains "fake sticker reason" "$OUT" "a look-alike of dichvucong.gov.vn"
v=$(printf '%s\n' "$OUT" | awk '/target le-phi-thon-doai/ {f=1} f && /verdict:/ {print $2; exit}')
expect_eq "swapped payee is TAMPERED" "$v" "TAMPERED"
expect_contains "swapped payee reason" "$OUT" "pays account 0987654321 at bank BIN 970422, not the registered 970405:2605205012345"
v=$(printf '%s\n' "$OUT" | awk '/target kt-thon-doai/ {f=1} f && /verdict:/ {print $2; exit}')
expect_eq "torn board is UNREADABLE" "$v" "UNREADABLE"

# Vietnamese by default
expect_run "decode vi" 1 "$QRWATCH" decode -c "$CAT" -t ks-thon-doai targets/examples/boards/ks-thon-doai.png
expect_contains "Vietnamese explanation" "$OUT" "tên miền giả mạo dichvucong.gov.vn"

# a code photographed at an angle (its top edge at 55-60% of its bottom,
# warped by ImageMagick): beyond ZBar's whole cascade, read by ZXing-C++
"$QRWATCH" encode -o "$TMP/tilt.png" "https://dichvucong.bacninh.gov.vn/thu-tuc/1.001193" >/dev/null
for top in 60 55; do
    m=$((164 * (100 - top) / 200))
    /usr/bin/convert "$TMP/tilt.png" -virtual-pixel white -distort Perspective \
        "0,0 $m,0  164,0 $((164 - m)),0  0,164 0,164  164,164 164,164" "$TMP/tilt$top.png"
    expect_eq "zbarimg cannot read the $top% keystone" "$(zbarimg -q --raw "$TMP/tilt$top.png" 2>/dev/null)" ""
    if "$QRWATCH" decode --help | grep -q "^The cascade.* zxing"; then
        expect_run "the $top% keystone reads" 0 "$QRWATCH" decode --english "$TMP/tilt$top.png"
        expect_contains "read by ZXing-C++" "$OUT" "read by:  zxing"
        expect_contains "the whole text" "$OUT" "https://dichvucong.bacninh.gov.vn/thu-tuc/1.001193"
    else
        echo "note: built without ZXing-C++ (make ZXING=no): the $top% keystone stays unread"
        expect_run "the $top% keystone is unreadable without ZXing" 1 "$QRWATCH" decode "$TMP/tilt$top.png"
    fi
done

# a board with three codes (a sticker beside the official one, another
# below): every code, in reading order, with where it is
"$QRWATCH" encode -o "$TMP/m1.png" "https://dichvucong.gov.vn/a" >/dev/null
"$QRWATCH" encode -o "$TMP/m2.png" "https://gia-mao.example/b" >/dev/null
"$QRWATCH" encode -o "$TMP/m3.png" "https://dichvucong.gov.vn/c" >/dev/null
/usr/bin/convert \( "$TMP/m1.png" "$TMP/m2.png" +append \) \
    \( "$TMP/m3.png" -background white -gravity west -extent 400x \) -background white -append "$TMP/three.png"
expect_run "decode --raw, three codes" 0 "$QRWATCH" decode --raw "$TMP/three.png"
expect_eq "every code, one a line, in reading order" "$(echo "$OUT" | tr '\n' ' ')" \
    "https://dichvucong.gov.vn/a https://gia-mao.example/b https://dichvucong.gov.vn/c "
expect_run "decode --json" 0 "$QRWATCH" decode --json "$TMP/three.png"
expect_eq "--json: each code's text, charset, step and position" \
    "$(echo "$OUT" | python3 -c 'import json, sys
o = json.load(sys.stdin)
print(o["status"], [(c["text"], c["charset"], c["step"], c["position"]["x"] > 140, c["position"]["y"] > 140) for c in o["codes"]])')" \
    "found [('https://dichvucong.gov.vn/a', 'ascii', 'as-is', False, False), ('https://gia-mao.example/b', 'ascii', 'as-is', True, False), ('https://dichvucong.gov.vn/c', 'ascii', 'as-is', False, True)]"
expect_run "--raw and --json together" 2 "$QRWATCH" decode --raw --json "$TMP/three.png"
# --yield: every step on its own; a light code on a dark board reads only inverted
/usr/bin/convert "$TMP/m1.png" -negate "$TMP/negative.png"
expect_run "decode --yield" 0 "$QRWATCH" decode --yield "$TMP/m1.png" "$TMP/negative.png"
expect_eq "the plain code: read as it is, and by others" "$(echo "$OUT" | sed -n 1p | cut -f 2 | cut -d, -f 1)" "as-is"
expect_eq "the negative: the inverted step alone" "$(echo "$OUT" | sed -n 2p | cut -f 2)" "inverted"
expect_run "decode --yield on junk" 1 "$QRWATCH" decode --yield "$TMP/junk.png"

# a poster of a link only once the link checks working, walked by
# qrwatch-probe against the fixture portal: a stale link is refused
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PORTAL=$!
i=0; while [ ! -s "$TMP/portal.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
P=$(cat "$TMP/portal.port")
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for t in ks gone; do
    case $t in gone) path=gone ;; *) path=dvc/khai-sinh ;; esac
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$TMP/m1.png"
    printf 'payload = http://portal.test:%s/%s\nofficial_domains = portal.test\nallow_private = 127.0.0.1\n' "$P" "$path"
done
} > "$TMP/poster.catalog"
expect_run "poster of a link that checks OK" 0 "$QRWATCH" poster -c "$TMP/poster.catalog" \
    --resolve "portal.test:$P:127.0.0.1" ks -o "$TMP/ks.png"
expect_contains "says it was checked" "$OUT" "replacement code for 'ks' written, its address checked OK"
expect_contains "and shows the check" "$ERR" "OK"
expect_run "poster decodes" 0 "$QRWATCH" decode --raw "$TMP/ks.png"
expect_eq "poster payload" "$OUT" "http://portal.test:$P/dvc/khai-sinh"
expect_run "no poster of a stale link" 1 "$QRWATCH" poster -c "$TMP/poster.catalog" \
    --resolve "portal.test:$P:127.0.0.1" gone -o "$TMP/gone.png"
expect_contains "the refusal says why" "$ERR" "no poster for 'gone': its address 'http://portal.test:$P/gone' did not check OK"
expect_contains "with the check's verdict" "$ERR" "STALE"
expect_eq "and writes nothing" "$([ -e "$TMP/gone.png" ] && echo written || echo none)" "none"
# the poster to pin up, as PDF: read back by poppler, as a printer would
expect_run "PDF poster" 0 "$QRWATCH" poster -c "$TMP/poster.catalog" \
    --resolve "portal.test:$P:127.0.0.1" ks -o "$TMP/ks.pdf"
T=$(pdftotext "$TMP/ks.pdf" - | tr '\n' ' ')
expect_contains "PDF: the issuing commune and province" "$T" "Ủy ban nhân dân Xã Tân An · Tỉnh Bắc Ninh"
expect_contains "PDF: the procedure" "$T" "Đăng ký khai sinh"
expect_contains "PDF: the address in short form" "$T" "portal.test:$P/dvc/khai-sinh"
expect_contains "PDF: three steps" "$T" "3. Xem tên miền trong đường dẫn, rồi mới bấm mở."
expect_contains "PDF: the domain to check" "$T" "Chỉ mở khi tên miền là portal.test."
expect_contains "PDF: the date, Vietnam time" "$T" "In ngày $(TZ=Asia/Ho_Chi_Minh date +%d/%m/%Y)"
expect_contains "PDF: the serial" "$T" "Số: ks-"
pdftoppm -r 150 -png -singlefile "$TMP/ks.pdf" "$TMP/ks-print"
expect_run "the printed code reads" 0 "$QRWATCH" decode --raw "$TMP/ks-print.png"
expect_eq "and carries the checked address" "$OUT" "http://portal.test:$P/dvc/khai-sinh"
expect_eq "A5 by default" "$(pdfinfo "$TMP/ks.pdf" | sed -n 's/^Page size: *//p')" "419.53 x 595.28 pts"
expect_run "A4 on request" 0 "$QRWATCH" poster -c "$TMP/poster.catalog" \
    --resolve "portal.test:$P:127.0.0.1" --size a4 ks -o "$TMP/ks4.pdf"
expect_eq "A4" "$(pdfinfo "$TMP/ks4.pdf" | sed -n 's/^Page size: *//p')" "595.28 x 841.89 pts (A4)"
expect_run "a bad size" 2 "$QRWATCH" poster -c "$TMP/poster.catalog" --size a3 ks -o "$TMP/x.pdf"
expect_contains "named" "$ERR" "--size must be a5 or a4, not 'a3'"
expect_run "no poster when the checker cannot run" 1 "$QRWATCH" poster -c "$TMP/poster.catalog" \
    --probe "$TMP/no-such-probe" ks -o "$TMP/ks2.png"
expect_contains "and that is said" "$ERR" "its address could not be checked"
# a stale code's new address: found on the portal by its procedure code,
# then walked as the target's own flow; offered only when that is OK
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
printf '\n[flow tim-theo-ma]\nname = Tìm thủ tục theo mã trên cổng\n'
printf '[step]\nname = Tìm theo mã\nurl = http://portal.test:%s/tim-kiem?ma={code}\n' "$P"
printf 'capture = next body href="(/dvc/thu-tuc/[^"]+)"\n'
printf '[step]\nname = Mở trang thủ tục\nurl = {next}\n'
# target ID CODE PROCEDURE: the residence code, stale since the migration
tgt() {
    printf '\n[target %s]\nboard = b\nprocedure = %s\nimage = %s\n' "$1" "$3" "$TMP/m1.png"
    printf 'payload = http://portal.test:%s/cu/xac-nhan-cu-tru\nofficial_domains = portal.test\n' "$P"
    printf 'allow_private = 127.0.0.1\nprocedure_code = %s\nlookup = tim-theo-ma\nexpect_text = %s\n' "$2" "$3"
}
# a lookup that ends off the portal's domain (an advert's link, say)
printf '\n[flow ra-ngoai]\nname = Tìm\n[step]\nname = Trang ngoài\nurl = http://127.0.0.1:%s/dvc/thu-tuc/xac-nhan-cu-tru\n' "$P"
tgt cu-tru 1.004227 "Xác nhận thông tin về cư trú"
tgt khong-co 9.999999 "Xác nhận thông tin về cư trú"
tgt sai 1.004227 "Đăng ký khai sinh"
tgt ngoai 1.004227 "Xác nhận thông tin về cư trú" | sed 's/^lookup = tim-theo-ma$/lookup = ra-ngoai/'
} > "$TMP/lookup.catalog"
expect_run "the lookup catalog lints clean" 0 "$QRWATCH" lint "$TMP/lookup.catalog"
expect_run "the registered address is stale" 1 "$QRW_BUILD/qrwatch-probe" check -c "$TMP/lookup.catalog" \
    --resolve "portal.test:$P:127.0.0.1" --payload "http://portal.test:$P/cu/xac-nhan-cu-tru" cu-tru
expect_contains "it lands on the home page" "$OUT" "STALE"
expect_run "lookup finds the new address" 0 "$QRWATCH" lookup -c "$TMP/lookup.catalog" \
    --resolve "portal.test:$P:127.0.0.1" cu-tru
expect_eq "and prints it alone" "$OUT" "http://portal.test:$P/dvc/thu-tuc/xac-nhan-cu-tru"
expect_contains "checked as a citizen would" "$ERR" "candidate for 'cu-tru': http://portal.test:$P/dvc/thu-tuc/xac-nhan-cu-tru; checking it"
expect_contains "and its waterfall shown, OK" "$ERR" "OK  Trang mở được, trong thời gian cho phép."
expect_run "lookup of a code the portal does not list" 1 "$QRWATCH" lookup -c "$TMP/lookup.catalog" \
    --resolve "portal.test:$P:127.0.0.1" khong-co
expect_contains "says no new address, and why" "$ERR" "qrwatch: no new address for 'khong-co' (Xác nhận thông tin về cư trú 9.999999 on its portal): the lookup did not work"
expect_eq "and prints none" "$OUT" ""
expect_run "a candidate that does not name the procedure" 1 "$QRWATCH" lookup -c "$TMP/lookup.catalog" \
    --resolve "portal.test:$P:127.0.0.1" sai
expect_contains "is not offered" "$ERR" "is not OK (above), so it is not offered"
expect_eq "nothing printed for it" "$OUT" ""
expect_run "a lookup ending off the official domains" 1 "$QRWATCH" lookup -c "$TMP/lookup.catalog" \
    --resolve "portal.test:$P:127.0.0.1" ngoai
expect_contains "is refused, saying so" "$ERR" "the address found (http://127.0.0.1:$P/dvc/thu-tuc/xac-nhan-cu-tru) is not under the target's official_domains"
expect_run "lookup of a target without one" 2 "$QRWATCH" lookup -c "$TMP/poster.catalog" ks
expect_contains "says so" "$ERR" "target 'ks' has no 'lookup' flow"
kill "$PORTAL" 2>/dev/null
# a payment code needs no check: its registered payee is printed
expect_run "poster svg of a payment code" 0 "$QRWATCH" poster -c "$CAT" le-phi-mot-cua -o "$TMP/lp.svg"
expect_contains "svg names the procedure" "$(cat "$TMP/lp.svg")" "Nộp lệ phí chứng thực"
expect_run "PDF of a payment code" 0 "$QRWATCH" poster -c "$CAT" le-phi-mot-cua -o "$TMP/lp.pdf"
expect_contains "it names the payee to check before paying" "$(pdftotext "$TMP/lp.pdf" - | tr '\n' ' ')" \
    "Trước khi trả tiền, kiểm tra người nhận là “UBND XA TAN AN”, tài khoản 2605205012345 tại Agribank."
expect_contains "and the purpose the payer's bank will show" "$(pdftotext "$TMP/lp.pdf" - | tr '\n' ' ')" \
    "Tài khoản nhận: 2605205012345 · Nội dung: LE PHI CHUNG THUC"
expect_run "poster unknown target" 2 "$QRWATCH" poster -c "$CAT" nope -o "$TMP/n.png"
expect_contains "unknown target named" "$ERR" "no target 'nope'"
expect_run "poster bad extension" 1 "$QRWATCH" poster -c "$CAT" kh-mot-cua -o "$TMP/kh.gif"
expect_contains "extension named" "$ERR" "must end in .pdf, .svg or .png"

finish
