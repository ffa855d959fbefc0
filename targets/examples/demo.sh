#!/bin/sh
# demo.sh - the whole of qrwatch on one machine: `make demo`.
#
# Starts on loopback a fixture portal playing a provincial public-service
# portal, qrwatchd with its dashboard, a local SMTP receiver, and two
# probes: a village on an emulated 4G link and a ward on emulated 5G. The
# boards are generated QR codes made to look photographed. Within a minute
# every case shows its verdict and the alert e-mails arrive. Ctrl-C stops
# everything.
#
# Usage: sh targets/examples/demo.sh [BUILD-DIR]
# Environment: DEMO_DIR (working folder, default BUILD-DIR/demo),
#              DEMO_PORT (dashboard port, default 8080; 0 = any free port).
set -eu
O=${1:-build}
cd "$(dirname "$0")/../.."
DIR=${DEMO_DIR:-$O/demo}
PORT=${DEMO_PORT:-8080}
PY=/usr/bin/python3
Q="$O/qrwatch"
PIDS=""
RUSH=""

PROBES=""
SERVER=""
# stop in order: the probes first (their last push needs the server), then
# the server (its last e-mails need the receiver), then the rest
stop() {
    trap - INT TERM EXIT
    [ -n "$RUSH" ] && kill "$RUSH" 2>/dev/null
    for group in "$PROBES" "$SERVER" "$PIDS"; do
        for p in $group; do kill "$p" 2>/dev/null || true; done
        for p in $group; do wait "$p" 2>/dev/null || true; done
    done
    echo
    echo "qrwatch demo stopped. Its files stay in $DIR (data, mail, logs)."
}
trap stop EXIT
trap 'exit 0' INT TERM
wait_file() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ] || { echo "demo: $2 did not start; see $DIR/*.log" >&2; exit 1; }
}
start() {  # start NAME COMMAND...: in the background, logging to DIR/NAME.log
    name=$1
    shift
    "$@" > "$DIR/$name.log" 2>&1 &
    PIDS="$PIDS $!"
}

rm -rf "$DIR"
mkdir -p "$DIR/boards" "$DIR/mail"

# 1. the provincial portal
start portal "$O/tests/portal" -p "$DIR/portal.port"
wait_file "$DIR/portal.port" "the fixture portal"
P=$(cat "$DIR/portal.port")
H="dichvucong.bacninh.test"
B="http://$H:$P"

# 2. the boards: codes for the catalog, photographed; and what the field finds
photo() {  # photo FILE TILT TEXT...: several texts are codes side by side
    f=$1 tilt=$2
    shift 2
    "$Q" encode -s 6 --photo "$tilt" -o "$DIR/boards/$f" "$@" >/dev/null
}
photo ks-thon-dong.jpg 4 "$B/dvc/khai-sinh"
photo kt-thon-dong.jpg -3 "$B/dvc/thu-tuc/khai-tu"
photo kh-dong-ngan.jpg 6 "$B/dvc/thu-tuc/ket-hon"
photo ct-dong-ngan.jpg -5 "$B/dvc/thu-tuc/chung-thuc"
# the board with the stale code, photographed by an official's phone; and
# once the new poster is pinned up (the procedure's address after the move)
photo cu-tru-thon-dong.jpg 3 "$B/cu/xac-nhan-cu-tru"
photo cu-tru-thon-dong-moi.jpg -2 "$B/dvc/thu-tuc/xac-nhan-cu-tru"
photo trich-luc-dong-ngan.jpg -4 "$B/busy/trich-luc"
photo hkd-dong-ngan.jpg 5 "$B/flow/3/step/1"
# a fake sticker over the board: a look-alike domain
photo ks-ngo-thon-dong.jpg -6 "http://dichvucong-bacninh.test.khaisinh-online.com/dvc/khai-sinh"
# the official code with a sticker beside it, to a look-alike site
photo ct-thon-dong.jpg 3 "$B/dvc/thu-tuc/chung-thuc" "http://dvc-bacninh.test.nop-ho-so.com/chung-thuc"
# the fee code, with another account pasted over it
VIETQR_OK='00020101021138570010A00000072701270006970405011326052050123450208QRIBFTTA53037045802VN5914UBND XA TAN AN62210817LE PHI CHUNG THUC63044EE9'
photo le-phi-dong-ngan.jpg 2 '00020101021138540010A00000072701240006970422011009876543210208QRIBFTTA53037045802VN5914UBND XA TAN AN62210817LE PHI CHUNG THUC63041EEA'
# a damaged board: what is left cannot be read
"$Q" encode -s 1 --photo 30 -o "$DIR/boards/kh-thon-dong.jpg" "$B/dvc/thu-tuc/ket-hon" >/dev/null

# 3. the catalog
sed -e "s|@BASE@|$B|g" -e "s|@VIETQR@|$VIETQR_OK|" targets/examples/demo.catalog.in > "$DIR/demo.catalog"
"$Q" lint "$DIR/demo.catalog" > /dev/null

# 4. the mail receiver and the district server
start smtpd "$PY" tests/fixture/smtpd.py --dir "$DIR/mail" --port-file "$DIR/smtp.port"
wait_file "$DIR/smtp.port" "the SMTP receiver (python3-aiosmtpd)"
for p in thon-dong phuong-dong-ngan; do
    printf 'demo-secret-of-%s-0123456789\n' "$p" > "$DIR/$p.secret"
done
# an official who may confirm a new address (the pages stay open to read)
DEMO_USER=can-bo-huyen DEMO_PASSWORD=demo-mat-khau
USERLINE=$(printf '%s\n' "$DEMO_PASSWORD" | "$O/qrwatchd" --hash-password "$DEMO_USER")
cat > "$DIR/qrwatchd.conf" <<CONF
# qrwatchd for the demo (see dashboard/qrwatchd.conf.sample for every key)
listen = 127.0.0.1:$PORT
data_dir = $DIR/data
catalog = $DIR/demo.catalog
probe = thon-dong $DIR/thon-dong.secret
probe = phuong-dong-ngan $DIR/phuong-dong-ngan.secret
smtp_url = smtp://127.0.0.1:$(cat "$DIR/smtp.port")
smtp_from = qrwatch@huyen.example
smtp_starttls = no
notify = it-huyen email it@huyen.example
notify = xa-tan-an email vanphong@tanan.example place=xa-tan-an
notify = phuong-dong-ngan email vanphong@dongngan.example place=phuong-dong-ngan
# the demo opens an incident at the second bad result (the default is 3)
alert_open_after = 2
# the stale code's new address, looked up on the portal every 20 s
lookup_every = 20
lookup_resolve = $H:$P:127.0.0.1
public_pages = yes
$USERLINE
log_level = warn
CONF
"$O/qrwatchd" -c "$DIR/qrwatchd.conf" -p "$DIR/server.port" > "$DIR/qrwatchd.log" 2>&1 &
SERVER=$!
wait_file "$DIR/server.port" "qrwatchd (is port $PORT free? try DEMO_PORT=0)"
S=$(cat "$DIR/server.port")

# 5. a rush of citizens on the busy procedure, all the demo long
(
    trap 'exit 0' TERM
    while :; do
        for i in 1 2 3; do curl -s -m 1 -o /dev/null "http://127.0.0.1:$P/busy/rush" & done
        sleep 0.5
    done
) > /dev/null 2>&1 &
RUSH=$!

# 6. two probes: the village on 4G, the ward on 5G
for p in thon-dong:4g phuong-dong-ngan:5g; do
    id=${p%%:*}
    up=${p#*:}
    cat > "$DIR/$id.conf" <<CONF
probe_id = $id
secret_file = $DIR/$id.secret
server = http://127.0.0.1:$S/api/v1/ingest
# the catalog as qrwatchd serves it (a confirmed address reaches the probes
# this way), cached beside the boards' photos
catalog_url = http://127.0.0.1:$S/api/v1/probes/$id/catalog
catalog_refresh = 10
catalog = $DIR/catalog-$id.cache
uplink = $up
emulate = $up
resolve = $H:$P:127.0.0.1
spool_dir = $DIR/spool-$id
push_interval = 5
first_push_delay_max = 0
flush_every = 1
log_level = warn
CONF
    "$O/qrwatch-probe" run -c "$DIR/$id.conf" > "$DIR/probe-$id.log" 2>&1 &
    PROBES="$PROBES $!"
done
cat <<TXT

qrwatch demo is running (Ctrl-C stops it).

  Dashboard:         http://127.0.0.1:$S/            (English: add ?lang=en)
  Codes to reprint:  http://127.0.0.1:$S/stale
  Probes:            http://127.0.0.1:$S/probes
  Alert e-mails:     $DIR/mail/
                     list them: $PY tests/fixture/mailread.py $DIR/mail

Two probes check eleven posted codes of Xã Tân An and Phường Đông Ngàn every
30 seconds: Thôn Đông's router on 4G, the ward's on 5G. Each reads the
boards of its own place only and walks every procedure's flow (the other
place's from its registered address). Within a minute:

  OK           birth, death, marriage registration, certified copies
  STALE        "Xác nhận cư trú": the portal moved, the old address goes home
  HANG         "Cấp bản sao trích lục": the page falls over in a rush
  BROKEN_FLOW  "Đăng ký hộ kinh doanh": stops at step 3
  TAMPERED     a fake sticker (look-alike domain), another beside the
               official code, and a swapped fee account
  UNREADABLE   a damaged board

The e-mails name the board, the place, the verdict and what to do; the
"codes to reprint" page offers posters only of addresses checked working
(never the stale code's dead one); a target page shows the 4G
village slower than the 5G ward.

The stale code's new address, found on the portal by its procedure code
and checked as a citizen would reach it, is on the "codes to reprint" page
within a minute. Log in there ("Đăng nhập để xác nhận": $DEMO_USER,
password $DEMO_PASSWORD) and confirm it: the server walks it once more,
rewrites $DIR/demo.catalog (the old one kept under
$DIR/data/catalog-history/), reloads, and offers the poster (PDF); the
board, still showing the old code, then waits for it. Send the photo of
the board with the new poster pinned up ("Gửi ảnh bảng tin",
http://127.0.0.1:$S/board/nvh-thon-dong/photo; a phone opens its camera):
  $DIR/boards/cu-tru-thon-dong-moi.jpg
and the incident resolves with it as evidence. From a terminal:
  $O/qrwatch lookup -c $DIR/demo.catalog --resolve $H:$P:127.0.0.1 cu-tru-thon-dong
TXT
echo "http://127.0.0.1:$S/" > "$DIR/ready"
while :; do sleep 1; done
