#!/bin/sh
# test_spool.sh - the probe's spool against what routers do to it: a power
# cut that wipes a spool kept in RAM, a flipped byte on its storage, and a
# disk that fills up. Every result the probe kept arrives at a real qrwatchd,
# once, or is counted as dropped; none is lost silently. Mounts tmpfs: root.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
MOUNTS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for m in $MOUNTS; do umount "$m" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
SECRET=s3cret-for-the-spool-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }
count() { db 'SELECT count(*) FROM results'; }
ms() { date +%s%3N; }
# results checked between two moments (the server's clock is the probe's here)
between() { db "SELECT count(*) FROM results WHERE time_ms >= $1 AND time_ms <= $2"; }
kept() { c=$(grep -c 'kept result for' "$1" 2>/dev/null); echo "${c:-0}"; }
# until COMMAND prints at least N, 20 s at most
wait_ge() {
    i=0
    while v=$(eval "$1" 2>/dev/null); [ "${v:-0}" -lt "$2" ] && [ $i -lt 200 ]; do
        sleep 0.1; i=$((i + 1))
    done
}

if ! mkdir -p "$TMP/ram" || ! mount -t tmpfs -o size=4m tmpfs "$TMP/ram" 2>/dev/null; then
    fail "mount a tmpfs for the spool" "this test needs root (CI and make test run as root)"
    finish
    exit 1
fi
MOUNTS="$TMP/ram"

"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")
B="http://portal.test:$P"
"$QRW_BUILD/qrwatch" encode -o "$TMP/ks.png" "$B/dvc/khai-sinh" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for i in $(seq 1 20); do
    printf '\n[target t%s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/ks.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n'
done
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
CONF
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>"$TMP/server.log" &
SPID=$!
PIDS="$PIDS $SPID"
wait_file "$TMP/server.port"
S=$(cat "$TMP/server.port")
# conf NAME SPOOL-DIR SERVER-URL
conf() {
    cat > "$TMP/$1.conf" <<CONF
probe_id = thon-dong-1
secret_file = $TMP/probe.secret
server = $3
catalog = $TMP/c.catalog
uplink = 4g
spool_dir = $2
resolve = portal.test:$P:127.0.0.1
push_interval = 1
first_push_delay_max = 0
flush_every = 1
concurrency = 4
CONF
}
start_probe() {  # start_probe CONF LOG
    "$PROBE" run -c "$TMP/$1.conf" 2>"$TMP/$2" &
    DPID=$!
    PIDS="$PIDS $DPID"
}
stop_probe() { kill "$DPID"; wait "$DPID" 2>/dev/null; }
URL="http://127.0.0.1:$S/api/v1/ingest"
DEAD="http://127.0.0.1:9/api/v1/ingest"    # nothing listens on the discard port

# 1. A power cut on a router whose spool is in RAM. The probe had sent 499
#    batches (its cursor says the next is 500); after the cut its spool is
#    empty and numbers from 1 again, under a new epoch. Every result it keeps
#    from then on must be stored: the server once threw them all away as
#    replays of numbers it had seen.
mkdir -p "$TMP/ram/spool"
printf 'cursor 1 0\ndropped 0\nseq 500\nepoch aaaaaaaaaaaaaaaa\n' > "$TMP/ram/spool/cursor"
conf ram "$TMP/ram/spool" "$URL"
start_probe ram ram1.log
wait_ge 'count' 10
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
expect_eq "before the cut, batches numbered from 500" "$(db "SELECT first_seq FROM probe_epochs WHERE epoch = 'aaaaaaaaaaaaaaaa'")" "500"
umount "$TMP/ram"
mount -t tmpfs -o size=4m tmpfs "$TMP/ram"
T0=$(ms)
start_probe ram ram2.log
wait_ge 'kept "$TMP/ram2.log"' 10
stop_probe
T1=$(ms)
n=$(kept "$TMP/ram2.log")
# what it kept but had not pushed yet goes at its next start
start_probe ram ram3.log
wait_ge "between $T0 $T1" "$n"
stop_probe
expect_eq "after the power cut, every result the probe kept is stored ($n)" "$(between "$T0" "$T1")" "$n"
expect_contains "the probe numbered from 1 under a new epoch" "$(cat "$TMP/ram2.log")" "next batch 1,"
expect_eq "the server knows both spools" "$(db "SELECT count(*) FROM probe_epochs WHERE probe = 'thon-dong-1'")" "2"
expect_contains "the server's log says the spool was made anew" "$(cat "$TMP/server.log")" "its previous spool (epoch aaaaaaaaaaaaaaaa, last batch"
PAGE=$(curl -s "http://127.0.0.1:$S/probe/thon-dong-1")
expect_contains "the probe's page says so" "$PAGE" "Thiết bị này đã bắt đầu một hàng đợi kết quả mới lúc"

# 2. One flipped byte in the middle of the spool: that result is skipped and
#    counted, and every other one arrives. (The spool once cut the segment
#    at the bad record, deleting every result after it.)
conf flip "$TMP/flip" "$DEAD"
T0=$(ms)
start_probe flip flip1.log
wait_ge 'kept "$TMP/flip1.log"' 10
stop_probe
T1=$(ms)
n=$(kept "$TMP/flip1.log")
seg=$(ls "$TMP/flip"/seg-* | tail -n 1)
size=$(stat -c %s "$seg")
# a byte in the middle of the file, inside one record, changed
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N 1 "$seg" | tr -d ' ')
printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" | dd of="$seg" bs=1 seek="$off" conv=notrunc 2>/dev/null
conf flip "$TMP/flip" "$URL"
start_probe flip flip2.log
wait_ge "between $T0 $T1" $((n - 1))
sleep 1
stop_probe
expect_eq "a flipped byte costs one result of $n, not the rest" "$(between "$T0" "$T1")" "$((n - 1))"
expect_contains "and it is counted as dropped" "$(cat "$TMP/flip/cursor")" "dropped 1"

# 3. A disk that fills up: writes stop part-way, are cut back and retried
#    whole; what is still unwritten at a stop is counted and said. Kept =
#    delivered + dropped, nothing skipped silently.
mkdir -p "$TMP/full"
mount -t tmpfs -o size=20k tmpfs "$TMP/full"    # cursor, reserve and two pages
MOUNTS="$MOUNTS $TMP/full"
conf full "$TMP/full/spool" "$DEAD"
T0=$(ms)
start_probe full full1.log
wait_ge 'grep -c "No space left on device" "$TMP/full1.log"' 2
wait_ge 'kept "$TMP/full1.log"' 20
stop_probe
T1=$(ms)
n=$(kept "$TMP/full1.log")
lost=$(sed -n 's/.* \([0-9][0-9]*\) results lost at stop: the spool .*/\1/p' "$TMP/full1.log" | tail -n 1)
expect_eq "the disk filled up" "$([ "$(grep -c 'No space left on device' "$TMP/full1.log")" -gt 0 ] && echo yes)" "yes"
expect_eq "the stop says how many results it could not write" "$([ -n "$lost" ] && [ "$lost" -gt 0 ] && echo yes)" "yes"
lost=${lost:-0}
mount -o remount,size=4m "$TMP/full"
conf full "$TMP/full/spool" "$URL"
start_probe full full2.log
wait_ge "between $T0 $T1" $((n - lost))
sleep 1
stop_probe
expect_eq "kept $n = delivered + $lost dropped, none skipped" "$(between "$T0" "$T1")" "$((n - lost))"
expect_contains "the dropped ones are counted in the spool" "$(cat "$TMP/full/spool/cursor")" "dropped $lost"
expect_eq "no sanitizer or runtime reports" "$(cat "$TMP"/*.log | grep -c 'Sanitizer\|runtime error')" "0"
kill "$SPID"; wait "$SPID"
finish
