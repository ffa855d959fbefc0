#!/bin/sh
# test_kill_server.sh - kill -9 qrwatchd again and again under a load of
# signed batches: every acknowledged result is stored exactly once, no
# batch is applied twice, the RRD files read back with rrdtool, and the
# server starts cleanly afterwards.
#
# tests/fixture/loadgen plays six probes, each with one batch of 200
# results in flight, sending a batch again with the same number until it is
# acknowledged, as a probe does. The test kills the server at a random
# moment while batches flow, restarts it, and does that QRW_KILLS times
# (default 20). A trigger the test adds to the database logs every result
# an ingest transaction tries to insert, so a batch applied twice shows
# even where the results table's unique key would swallow it.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
LOAD="$QRW_BUILD/tests/loadgen"
KILLS=${QRW_KILLS:-20}
SECRET=s3cret-for-the-kill-tests
PROBES="load-1 load-2 load-3 load-4 load-5 load-6"
TARGETS="t1 t2 t3"
SPID=""
LPID=""
trap 'for p in $SPID $LPID; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
export LC_ALL=C

wait_file() {  # wait_file FILE [TENTHS]
    i=0
    while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
}
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }
batches() { c=$({ wc -l < "$TMP/load/batches"; } 2>/dev/null); echo "${c:-0}"; }
# a random wait of 0 to $1 ms, as seconds for sleep
random_wait() {
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    awk -v r="$r" -v max="$1" 'BEGIN { printf "%.3f", (r % (max + 1)) / 1000 }'
}
# stop PID: SIGTERM, then its exit status; 137 when it had to be killed after 15 s
stop() {
    kill "$1" 2>/dev/null
    ( sleep 15; kill -9 "$1" ) >/dev/null 2>&1 &
    dog=$!
    wait "$1"
    rc=$?
    kill "$dog" 2>/dev/null
    return $rc
}
# start_server: qrwatchd in the background (pid in SPID); 0 once it listens
start_server() {
    rm -f "$TMP/server.port"
    "$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>>"$TMP/server.log" &
    SPID=$!
    wait_file "$TMP/server.port" 100
    [ -s "$TMP/server.port" ]
}

# the server's catalog: the three targets the load reports on
mkdir -p "$TMP/load"
"$QRW_BUILD/qrwatch" encode -o "$TMP/t.png" "http://portal.test/dvc/khai-sinh" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for t in $TARGETS; do
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$TMP/t.png"
    printf 'official_domains = portal.test\ninterval = 60\n'
done
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
{
printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\n' "$TMP" "$TMP"
for p in $PROBES; do printf 'probe = %s %s/probe.secret\n' "$p" "$TMP"; done
} > "$TMP/qrwatchd.conf"

# a first start on port 0 makes the schema and picks the port that every
# restart then binds again, as a real restart does; then the trigger that
# logs every insert an ingest transaction attempts, with its batch number
if start_server; then pass "qrwatchd starts"; else fail "qrwatchd starts" "$(cat "$TMP/server.log")"; fi
stop "$SPID"
sed -i "s|^listen = .*|listen = 127.0.0.1:$(cat "$TMP/server.port")|" "$TMP/qrwatchd.conf"
db "CREATE TABLE test_arrivals (probe TEXT, target TEXT, probe_time TEXT, seq INTEGER);
    CREATE TRIGGER test_arrival AFTER INSERT ON results BEGIN
      INSERT INTO test_arrivals VALUES (NEW.probe, NEW.target, NEW.probe_time,
        (SELECT last_seq FROM probes WHERE id = NEW.probe));
    END;"
start_server
URL="http://127.0.0.1:$(cat "$TMP/server.port")/api/v1/ingest"

# the load, then the kills: each at a random moment once batches flow again
T0=$(date +%s)
"$LOAD" -u "$URL" -s "$SECRET" -p "$(echo "$PROBES" | tr ' ' ,)" -t "$(echo "$TARGETS" | tr ' ' ,)" \
    -o "$TMP/load" -m 300 -w 30 > "$TMP/load.out" 2> "$TMP/load.err" &
LPID=$!
kills=0
restarts=0
stalls=0
while [ $kills -lt "$KILLS" ]; do
    before=$(batches)
    i=0
    while [ "$(batches)" -le "$before" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ "$(batches)" -gt "$before" ] || stalls=$((stalls + 1))
    sleep "$(random_wait 2000)"
    kill -9 "$SPID"
    wait "$SPID" 2>/dev/null
    kills=$((kills + 1))
    if start_server; then
        restarts=$((restarts + 1))
    else
        fail "restart $kills" "$(tail -n 3 "$TMP/server.log")"
        start_server
    fi
done
expect_eq "qrwatchd killed with -9 mid-load" "$kills" "$KILLS"
expect_eq "and restarted each time" "$restarts" "$KILLS"
expect_eq "batches flowed again after every restart" "$stalls" "0"
# let the last server take some load, then end it: every batch must be acknowledged
before=$(batches)
i=0
while [ "$(batches)" -le "$before" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$LPID"
wait "$LPID"
load_rc=$?
LPID=""
T1=$(date +%s)
expect_eq "every batch acknowledged in the end" "$load_rc" "0"
[ "$load_rc" -eq 0 ] || sed "s/^/    /" "$TMP/load.err"
stop "$SPID"
expect_eq "qrwatchd stops cleanly after the kills" "$?" "0"
SPID=""

# what the probes were told is stored, against what is stored
cut -d' ' -f1-3 "$TMP/load/acked" | sort > "$TMP/acked.keys"
cut -d' ' -f1-3 "$TMP/load/sent" | sort -u > "$TMP/sent.keys"
db "SELECT probe || ' ' || target || ' ' || probe_time FROM results" | sort > "$TMP/db.keys"
acked=$(wc -l < "$TMP/acked.keys")
lost=$(comm -23 "$TMP/acked.keys" "$TMP/db.keys" | wc -l)
doubled_rows=$(db "SELECT count(*) FROM (SELECT 1 FROM results GROUP BY probe, target, probe_time HAVING count(*) > 1)")
doubled_applied=$(db "SELECT count(*) FROM (SELECT 1 FROM test_arrivals GROUP BY probe, target, probe_time HAVING count(*) > 1)")
phantoms=$(comm -13 "$TMP/sent.keys" "$TMP/db.keys" | wc -l)
again=$(grep -c ' again ' "$TMP/load/batches")
echo "     figures: $kills kills of qrwatchd in $((T1 - T0)) s, $acked results acknowledged, $lost lost, $((doubled_rows + doubled_applied)) doubled"
echo "     $(batches) batches; $again acknowledged again after a kill ate the answer to their commit"
echo "     $(cat "$TMP/load.out")"
if [ "$acked" -ge 1000 ]; then pass "a real load: $acked results acknowledged"
else fail "a real load: at least 1000 results acknowledged" "got $acked"; fi
expect_eq "no acknowledged result lost" "$lost" "0"
[ "$lost" -eq 0 ] || comm -23 "$TMP/acked.keys" "$TMP/db.keys" | head -n 5 | sed 's/^/    lost: /'
expect_eq "no result stored twice" "$doubled_rows" "0"
expect_eq "no result applied twice" "$doubled_applied" "0"
expect_eq "nothing stored that was not sent" "$phantoms" "0"
expect_eq "every acknowledged result stored, nothing else" "$(wc -l < "$TMP/db.keys")" "$acked"
expect_eq "every acknowledged batch applied in one transaction" \
    "$(db "SELECT count(*) FROM (SELECT DISTINCT probe, seq FROM test_arrivals)")" "$(batches)"
expect_eq "each with all of its results and no other" \
    "$(db "SELECT count(*) FROM (SELECT 1 FROM test_arrivals GROUP BY probe, seq HAVING count(*) != 200)")" "0"

case "$(cat "$TMP/server.log" "$TMP/load.err")" in
    *AddressSanitizer*|*"runtime error"*) fail "no sanitizer report" "$(grep -h -A5 -E 'AddressSanitizer|runtime error' "$TMP/server.log" "$TMP/load.err" | head -n 20)" ;;
    *) pass "no sanitizer report" ;;
esac

# the server starts cleanly on what the kills left: RRD writes a kill cut
# short are done at the start, the pages answer, and it stops with status 0
: > "$TMP/server.log"
if start_server; then pass "qrwatchd starts again after the kills"
else fail "qrwatchd starts again after the kills" "$(cat "$TMP/server.log")"; fi
S=$(cat "$TMP/server.port")
expect_eq "health check" "$(curl -s "http://127.0.0.1:$S/healthz")" "ok"
expect_eq "overview page" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S/")" "200"
# files a kill kept from being made are made now, in the background
missing=""
for p in $PROBES; do
    for t in $TARGETS; do
        wait_rrd "$TMP/data" "$TMP/data/rrd/$p/$t.rrd" || missing="$missing $p/$t"
    done
done
expect_eq "every RRD file made and written after the kills" "$missing" ""
stop "$SPID"
expect_eq "and stops cleanly" "$?" "0"
SPID=""
# the last checkpoint, at the stop, marked each file up to its newest result
expect_eq "each RRD file's mark reaches its newest result" \
    "$(db "SELECT count(*) FROM latest l LEFT JOIN rrd_marks m ON m.probe = l.probe AND m.target = l.target WHERE coalesce(m.on_disk_ms, 0) / 1000 < l.time_ms / 1000")" "0"
case "$(grep -E '^(error|warn)' "$TMP/server.log")" in
    "") pass "the start after the kills logs no error" ;;
    *) fail "the start after the kills logs no error" "$(grep -E '^(error|warn)' "$TMP/server.log")" ;;
esac

# the RRD files read back with rrdtool: each holds its newest result
files=0
bad=""
for p in $PROBES; do
    for t in $TARGETS; do
        f="$TMP/data/rrd/$p/$t.rrd"
        if ! rrdtool info "$f" >/dev/null 2>"$TMP/rrd.err"; then
            bad="$bad $p/$t: $(cat "$TMP/rrd.err");"
            continue
        fi
        files=$((files + 1))
        last=$(rrdtool last "$f")
        newest=$(db "SELECT max(time_ms) / 1000 FROM results WHERE probe = '$p' AND target = '$t'")
        [ "$last" = "$newest" ] || bad="$bad $p/$t: last update $last, newest result $newest;"
    done
done
expect_eq "rrdtool reads every RRD file" "$files" "$(($(echo "$PROBES" | wc -w) * $(echo "$TARGETS" | wc -w)))"
expect_eq "each RRD file's last update is its newest result" "$bad" ""
f="$TMP/data/rrd/load-1/t1.rrd"
last=$(rrdtool last "$f")
OUT=$(rrdtool fetch "$f" AVERAGE --start "$((last - 600))" --end "$last" 2>&1)
expect_contains "rrdtool fetch reads the values back" "$OUT" "avail"
case "$OUT" in
    *": 1.0000000000e+00 "*|*": 9.0000000000e-01 "*) pass "with availability in the last minutes" ;;
    *) fail "with availability in the last minutes" "$OUT" ;;
esac

finish
