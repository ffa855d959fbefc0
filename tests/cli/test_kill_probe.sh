#!/bin/sh
# test_kill_probe.sh - kill -9 qrwatch-probe again and again while it
# checks codes on the fixture portal and pushes to a real qrwatchd, which
# is killed too now and then: every result that ever reached the spool's
# disk arrives at the server, exactly once.
#
# The oracle for "lost": while the test runs, every spool segment is
# hard-linked into a folder of its own as soon as it appears, and once more
# after each kill while the probe is dead. Segments are only appended to,
# so the link keeps every record the probe ever wrote there, even after the
# probe has sent the segment and deleted it; tests/fixture/spooldump reads
# them by the documented framing. Each kept result must be at the server.
# Completeness is checked from the other side: every result the server
# holds must be among the kept ones, or the oracle missed some. The oracle
# for "doubled": a trigger the test adds to the server's database logs
# every result an ingest transaction tries to insert, so a result sent
# again in a new batch shows, though the results table would ignore it.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
PROBE="$QRW_BUILD/qrwatch-probe"
DUMP="$QRW_BUILD/tests/spooldump"
KILLS=${QRW_KILLS:-20}
NTARGETS=120
SECRET=s3cret-for-the-kill-tests
PIDS=""
DPID=""
SPID=""
trap 'for p in $PIDS $DPID $SPID; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
export LC_ALL=C

wait_file() {  # wait_file FILE [TENTHS]
    i=0
    while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
}
db() { sqlite3 "$TMP/data/qrwatch.db" "$1"; }
# a random number from $1 to $2
random_int() {
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $(($1 + r % ($2 - $1 + 1)))
}
# a random wait of $1 to $2 ms, as seconds for sleep
random_wait() {
    awk -v ms="$(random_int "$1" "$2")" 'BEGIN { printf "%.3f", ms / 1000 }'
}
# start_server: qrwatchd in the background (pid in SPID); 0 once it listens
start_server() {
    rm -f "$TMP/server.port"
    "$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/server.port" 2>>"$TMP/server.log" &
    SPID=$!
    wait_file "$TMP/server.port"
    [ -s "$TMP/server.port" ]
}
SPOOL="$TMP/spool"
SEGS="$TMP/segments"
# link every spool segment not linked yet
link_segments() {
    for f in "$SPOOL"/seg-*; do
        [ -e "$f" ] || continue
        [ -e "$SEGS/${f##*/}" ] || ln "$f" "$SEGS/${f##*/}" 2>/dev/null
    done
}
# kept FILE: every result kept in a linked segment, as "TARGET TIME"
# (sorted, repeats kept); fails if a whole record is not a result
kept() {
    "$DUMP" "$SEGS"/seg-* > "$1.unsorted" 2>>"$TMP/spooldump.log"
    rc=$?
    sort "$1.unsorted" > "$1"
    return $rc
}
arrived() {
    db "SELECT target || ' ' || probe_time FROM results WHERE probe = 'thon-dong-1'" | sort
}
start_probe() {  # start_probe LOG
    "$PROBE" run -c "$TMP/probe.conf" 2>"$TMP/$1" &
    DPID=$!
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

mkdir -p "$SEGS"
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")

# many codes, checked every 30 s: a probe's first round after a start
# comes within 3 s, so each short life between two kills checks dozens
"$QRW_BUILD/qrwatch" encode -o "$TMP/ks.png" "http://portal.test:$P/dvc/khai-sinh" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
i=1
while [ $i -le $NTARGETS ]; do
    printf '\n[target t%d]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/ks.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n'
    i=$((i + 1))
done
} > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
CONF

# the server: a first start on port 0 makes the schema and picks the port
# it comes back on after an outage; then the trigger goes in
start_server
stop "$SPID"
sed -i "s|^listen = .*|listen = 127.0.0.1:$(cat "$TMP/server.port")|" "$TMP/qrwatchd.conf"
db "CREATE TABLE test_arrivals (probe TEXT, target TEXT, probe_time TEXT, seq INTEGER);
    CREATE TRIGGER test_arrival AFTER INSERT ON results BEGIN
      INSERT INTO test_arrivals VALUES (NEW.probe, NEW.target, NEW.probe_time,
        (SELECT last_seq FROM probes WHERE id = NEW.probe));
    END;"
start_server
S=$(cat "$TMP/server.port")

cat > "$TMP/probe.conf" <<CONF
probe_id = thon-dong-1
secret_file = $TMP/probe.secret
server = http://127.0.0.1:$S/api/v1/ingest
catalog = $TMP/c.catalog
uplink = 4g
spool_dir = $SPOOL
resolve = portal.test:$P:127.0.0.1
concurrency = 16
push_interval = 1
first_push_delay_max = 0
flush_every = 1
CONF

# the keeper links segments as they appear
( while [ ! -e "$TMP/keeper.stop" ]; do link_segments; sleep 0.05; done ) &
KPID=$!
PIDS="$PIDS $KPID"

# the probe's lives: each ends with kill -9 at a random moment; in about a
# third of them the server goes away too (kill -9) and is back only after
# the probe's death, so that pushes fail and results wait in the spool
T0=$(date +%s)
kills=0
starts=0
outages=0
restarts=0
while [ $kills -lt "$KILLS" ]; do
    start_probe "probe.$kills.log"
    i=0
    while ! grep -qs "started:" "$TMP/probe.$kills.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    grep -qs "started:" "$TMP/probe.$kills.log" && starts=$((starts + 1))
    down=0
    if [ "$(random_int 0 2)" -eq 0 ]; then
        sleep "$(random_wait 0 1500)"
        kill -9 "$SPID"
        wait "$SPID" 2>/dev/null
        down=1
        outages=$((outages + 1))
    fi
    sleep "$(random_wait 300 2500)"
    kill -9 "$DPID"
    wait "$DPID" 2>/dev/null
    kills=$((kills + 1))
    link_segments
    if [ $down -eq 1 ]; then
        start_server && restarts=$((restarts + 1))
    fi
done
T1=$(date +%s)
expect_eq "qrwatch-probe killed with -9" "$kills" "$KILLS"
expect_eq "and started again each time" "$starts" "$KILLS"
expect_eq "the server back after each of its $outages outages" "$restarts" "$outages"
kept "$TMP/kept.before"
expect_eq "every whole record in the spool is a result" "$?" "0"
sort -u "$TMP/kept.before" > "$TMP/kept.keys"
nkept=$(wc -l < "$TMP/kept.keys")

# a last run with the same spool sends what the kills left behind
start_probe probe.last.log
i=0
while [ "$(arrived | comm -23 "$TMP/kept.keys" - | wc -l)" -gt 0 ] && [ $i -lt 50 ]; do
    sleep 0.2
    i=$((i + 1))
done
stop "$DPID"
expect_eq "the probe stops cleanly after the kills" "$?" "0"
DPID=""
touch "$TMP/keeper.stop"
wait "$KPID"
link_segments
kept "$TMP/kept.all"
arrived > "$TMP/arrived"

lost=$(comm -23 "$TMP/kept.keys" "$TMP/arrived" | wc -l)
doubled=$(db "SELECT count(*) FROM (SELECT 1 FROM test_arrivals GROUP BY probe, target, probe_time HAVING count(*) > 1)")
spooled_twice=$(uniq -d "$TMP/kept.all" | wc -l)
unseen=$(sort -u "$TMP/kept.all" | comm -13 - "$TMP/arrived" | wc -l)
dropped=$(sed -n 's/.*bytes pending, \([0-9]*\) dropped.*/\1/p' "$TMP/probe.last.log" | tail -n 1)
batches=$(db "SELECT count(DISTINCT seq) FROM test_arrivals")
echo "     figures: $kills kills of qrwatch-probe in $((T1 - T0)) s, $nkept results kept on its disk, $(wc -l < "$TMP/arrived") arrived in $batches batches, $lost lost, $doubled doubled"
echo "     the server was killed too in $outages of the probe's $kills lives"
echo "     torn records cut off at a start (never kept): ${dropped:-?}"
if [ "$nkept" -ge 300 ]; then pass "a real load: $nkept results kept in the spool"
else fail "a real load: at least 300 results kept in the spool" "got $nkept"; fi
expect_eq "every kept result arrived" "$lost" "0"
[ "$lost" -eq 0 ] || comm -23 "$TMP/kept.keys" "$TMP/arrived" | head -n 5 | sed 's/^/    lost: /'
expect_eq "no result arrived twice" "$doubled" "0"
[ "$doubled" -eq 0 ] || db "SELECT target, probe_time, group_concat(seq) FROM test_arrivals GROUP BY probe, target, probe_time HAVING count(*) > 1 LIMIT 5" | sed 's/^/    twice: /'
expect_eq "no result written to the spool twice" "$spooled_twice" "0"
expect_eq "every result at the server was seen in the spool (the oracle is complete)" "$unseen" "0"
expect_eq "at most one torn record cut per kill, none dropped for space" "$([ "${dropped:-0}" -le "$KILLS" ] && echo yes)" "yes"
case "$(cat "$TMP"/probe.*.log "$TMP/server.log")" in
    *AddressSanitizer*|*"runtime error"*) fail "no sanitizer report" "$(grep -h -A5 -E 'AddressSanitizer|runtime error' "$TMP"/probe.*.log "$TMP/server.log" | head -n 20)" ;;
    *) pass "no sanitizer report" ;;
esac
stop "$SPID"
expect_eq "qrwatchd stops cleanly" "$?" "0"

finish
