#!/bin/sh
# test_rrdcached.sh - qrwatchd's own rrdcached (Debian's): started with the
# server, killed under it and started again with nothing lost from the RRD
# files, checkpoints that move each file's mark, and the direct writes
# when the rrdcached program is missing.
. "$(dirname "$0")/lib.sh"
SERVER="$(cd "$QRW_BUILD" && pwd)/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
SPID=""
TPID=""
trap '[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; [ -n "$TPID" ] && kill "$TPID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-rrdcached-tests
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }

if ! command -v rrdcached >/dev/null; then
    fail "rrdcached is installed" "the Debian package rrdcached (.ci/deps installs it)"
    finish
    exit 1
fi

"$QRW_BUILD/qrwatch" encode -o "$TMP/ks.png" "http://portal.test/dvc/khai-sinh" >/dev/null
cat > "$TMP/c.catalog" <<CAT
[place p]
province = Tỉnh Bắc Ninh
commune = Xã Tân An

[board b]
place = p
location = Nhà văn hoá

[target ks]
board = b
procedure = Đăng ký khai sinh
image = $TMP/ks.png
official_domains = portal.test
interval = 60
CAT
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
rrd_checkpoint = 1s
CONF

start() {  # start [ENV...]: qrwatchd on $TMP/qrwatchd.conf
    rm -f "$TMP/server.port"
    env "$@" "$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>>"$TMP/server.log" &
    SPID=$!
    wait_file "$TMP/server.port"
    URL="http://127.0.0.1:$(cat "$TMP/server.port")/api/v1/ingest"
}
stop() {
    kill "$SPID"
    wait "$SPID"
    st=$?
    SPID=""
    return $st
}
# result AGO STATUS: a result for ks AGO seconds before E, with that status
E=$(( $(date +%s) / 60 * 60 ))
result() {
    printf '{"target":"ks","time":"%s","verdict":"DOWN","why_vi":"x","payload":"","failed_step":1,"total_us":1000,"steps":[{"name":"a","status":%s,"dns_us":1,"connect_us":2,"tls_us":0,"ttfb_us":3,"total_us":10}]}' \
        "$(date -u -d "@$((E - $1))" +%Y-%m-%dT%H:%M:%S.000Z)" "$2"
}
SEQ=0
push() {  # push NAME RESULT...: one signed batch, answered 200
    name=$1
    shift
    SEQ=$((SEQ + 1))
    printf '{"probe":"thon-dong-1","seq":%s,"clock_ms":%s,"uplink":"5g","version":"t","results":[%s]}' \
        "$SEQ" "$(date +%s%3N)" "$(IFS=,; echo "$*")" > "$TMP/b.json"
    ANS=$("$SEND" "$URL" thon-dong-1 "$SECRET" "$TMP/b.json")
    expect_contains "$name: HTTP 200" "$ANS" "200 {\"ack\":$SEQ"
}
RRD="$TMP/data/rrd/thon-dong-1/ks.rrd"
wait_last() {  # wait_last TIME: until the file's last update is TIME (10 s)
    i=0
    while [ "$(rrd_last "$TMP/data" "$RRD" 2>/dev/null)" != "$1" ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    rrd_last "$TMP/data" "$RRD" 2>/dev/null
}
cached_pid() { cat "$TMP/data/rrdcached.pid" 2>/dev/null; }

start
expect_eq "qrwatchd starts its own rrdcached" "$(ps -o comm= -p "$(cached_pid)" 2>/dev/null)" "rrdcached"
expect_eq "on a socket in its data folder" "$([ -S "$TMP/data/rrdcached.sock" ] && echo yes)" "yes"
push "three results" "$(result 300 201)" "$(result 240 202)" "$(result 180 203)"
expect_eq "the file made in the background, then written" "$(wait_last $((E - 180)))" "$((E - 180))"

# rrdcached dies with what it held (it writes only every hour, or when
# asked): qrwatchd starts it again and writes those results again
OLD=$(cached_pid)
kill -9 "$OLD"
push "two more while rrdcached is gone" "$(result 120 204)" "$(result 60 205)"
expect_eq "every result in the file after rrdcached came back" "$(wait_last $((E - 60)))" "$((E - 60))"
NEW=$(cached_pid)
expect_eq "a new rrdcached" "$([ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && ps -o comm= -p "$NEW")" "rrdcached"
expect_contains "the log says so" "$(cat "$TMP/server.log")" "rrdcached stopped"
OUT=$(rrd "$TMP/data" fetch "$RRD" AVERAGE --start $((E - 360)) --end $((E - 60)))
for st in 202 203 204 205; do
    # avail total dns connect tls ttfb step status
    expect_contains "status $st read back by rrdtool fetch" "$OUT" \
        ": 0.0000000000e+00 1.0000000000e+00 1.0000000000e-03 2.0000000000e-03 0.0000000000e+00 3.0000000000e-03 1.0000000000e+00 2.${st#2}00000000e+02"
done

# a checkpoint every second: the mark reaches the newest result on disk
i=0
while [ "$(db "SELECT on_disk_ms / 1000 FROM rrd_marks WHERE target = 'ks'")" != "$((E - 60))" ] && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "the checkpoint moved the file's mark" "$(db "SELECT on_disk_ms / 1000 FROM rrd_marks WHERE target = 'ks'")" "$((E - 60))"
expect_contains "written again, not counted as refused" "$(curl -s "http://127.0.0.1:$(cat "$TMP/server.port")/metrics")" "qrwatch_rrd_refused_total 0"
expect_eq "rrdcached's data reached the disk (read without it)" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 60))"

# a late result: refused by the file, counted, kept in SQLite
push "a late result" "$(result 150 299)"
expect_contains "late: said refused" "$ANS" '"rrd_refused":1'
expect_eq "late: kept in SQLite" "$(db "SELECT status FROM results WHERE time_ms / 1000 = $((E - 150))")" "299"

# stopping: rrdcached writes out and stops with qrwatchd
CP=$(cached_pid)
stop
expect_eq "qrwatchd stops cleanly" "$?" "0"
expect_eq "its rrdcached stopped with it" "$(kill -0 "$CP" 2>/dev/null && echo running)" ""

# a qrwatchd killed: its rrdcached writes out what it held and stops; the
# next start waits for it
start
push "a result" "$(result 30 206)"
expect_eq "written" "$(wait_last $((E - 30)))" "$((E - 30))"
CP=$(cached_pid)
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
SPID=""
i=0
while kill -0 "$CP" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "the killed server's rrdcached stopped" "$(kill -0 "$CP" 2>/dev/null && echo running)" ""
expect_eq "after writing out what it held" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 30))"

# one batch for a file that takes updates and 700 new ones: the file
# table grows under the updates it holds (a use after free before)
awk 'BEGIN { for (i = 0; i < 700; i++) printf "\n[target m%04d]\nboard = b\nprocedure = Đăng ký kết hôn\nimage = x.png\nofficial_domains = portal.test\n", i }' >> "$TMP/c.catalog"
start
many="$(result 20 208)"
i=0
while [ $i -lt 700 ]; do
    many="$many,$(result 20 200 | sed "s/\"target\":\"ks\"/\"target\":\"m$(printf %04d $i)\"/")"
    i=$((i + 1))
done
push "one result on ks and 700 on new files" "$many"
expect_eq "ks written among them" "$(wait_last $((E - 20)))" "$((E - 20))"
i=0
while [ "$(find "$TMP/data/rrd/thon-dong-1" -name 'm*.rrd' | wc -l)" -lt 700 ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "the 700 new files made" "$(find "$TMP/data/rrd/thon-dong-1" -name 'm*.rrd' | wc -l)" "700"
stop
expect_eq "and the server stops cleanly" "$?" "0"

# a graph shows what rrdcached holds: the worker has it written out, then
# reads the file itself (fetching through rrdcached was a slow text parse)
sed -i 's/^rrd_checkpoint = .*/rrd_checkpoint = 1h/' "$TMP/qrwatchd.conf"
start
push "a result held by rrdcached" "$(result 15 209)"
sleep 1
expect_eq "held: not yet in the file (read without rrdcached)" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 20))"
expect_eq "its graph" "$(curl -s -o "$TMP/g.png" -w '%{http_code} %{content_type}' "http://127.0.0.1:$(cat "$TMP/server.port")/graph/thon-dong-1/ks/day.png")" "200 image/png"
expect_eq "a PNG" "$(head -c 4 "$TMP/g.png" | od -An -c | tr -d ' ')" "211PNG"
expect_eq "drawn after rrdcached wrote the file out" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 15))"
stop
expect_eq "and the server stops cleanly" "$?" "0"

# without the rrdcached program: direct writes, and the log says why
start PATH=/nonexistent
expect_contains "no rrdcached: said at start" "$(cat "$TMP/server.log")" "rrdcached is not installed"
expect_eq "no rrdcached: none started" "$([ -S "$TMP/data/rrdcached.sock" ] && echo yes)" ""
push "a result, written directly" "$(result 10 207)"
expect_eq "written directly" "$(wait_last $((E - 10)))" "$((E - 10))"
stop
expect_eq "and stops cleanly" "$?" "0"

# an rrdcached of the admin's on TCP (rrdcached = host:port): a graph
# still has it write the file out first (librrd's own client refuses
# absolute paths over TCP, so the flush is qrwatchd's)
CPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rrdcached -g -l "127.0.0.1:$CPORT" -b "$TMP/data" -w 3600 -z 1 -p "$TMP/tcp-cached.pid" >/dev/null 2>&1 &
TPID=$!
i=0
until python3 -c 'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"PING\n"); print(s.recv(64).decode().strip())' "$CPORT" 2>/dev/null | grep -q PONG || [ $i -ge 50 ]; do
    sleep 0.1; i=$((i + 1))
done
sed -i 's/^rrd_checkpoint = .*/rrd_checkpoint = 1h/' "$TMP/qrwatchd.conf"
printf 'rrdcached = 127.0.0.1:%s\n' "$CPORT" >> "$TMP/qrwatchd.conf"
start
push "a result through rrdcached on TCP" "$(result 5 211)"
sleep 1
expect_eq "tcp: held, not yet in the file" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 10))"
expect_eq "tcp: its graph" "$(curl -s -o "$TMP/g.png" -w '%{http_code}' "http://127.0.0.1:$(cat "$TMP/server.port")/graph/thon-dong-1/ks/day.png")" "200"
expect_eq "tcp: drawn after rrdcached wrote the file out" "$(rrdtool lastupdate "$RRD" | tail -n 1 | cut -d: -f1)" "$((E - 5))"
expect_eq "tcp: no flush refused in the log" "$(grep -c 'graph-flush\|could not write the file out' "$TMP/server.log")" "0"
stop
expect_eq "tcp: the server stops cleanly" "$?" "0"
kill "$TPID" 2>/dev/null
wait "$TPID" 2>/dev/null
TPID=""

# after all those stops and starts every file's mark reaches its newest
# result: results a file already held, written again at a start, are
# marked rather than written again at every start
expect_eq "every RRD file's mark reaches its newest result" \
    "$(db "SELECT count(*) FROM latest l LEFT JOIN rrd_marks m ON m.probe = l.probe AND m.target = l.target WHERE coalesce(m.on_disk_ms, 0) < l.time_ms")" "0"
sed -i '/^rrdcached = /d' "$TMP/qrwatchd.conf"
cp "$TMP/server.log" "$TMP/server.log.before"
: > "$TMP/server.log"
start
stop
expect_eq "so the next start writes nothing again" "$(grep -c 'results left out of the RRD files' "$TMP/server.log")" "0"
cat "$TMP/server.log" >> "$TMP/server.log.before"
mv "$TMP/server.log.before" "$TMP/server.log"

case "$(cat "$TMP/server.log")" in
    *AddressSanitizer*|*"runtime error"*) fail "no sanitizer report" "$(grep -A5 -E 'AddressSanitizer|runtime error' "$TMP/server.log" | head -n 20)" ;;
    *) pass "no sanitizer report" ;;
esac
finish
