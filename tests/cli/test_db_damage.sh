#!/bin/sh
# test_db_damage.sh - a damaged SQLite database: qrwatchd -t and the start
# refuse it with a message that says how to restore a backup, the restore
# it describes works, and a page that meets damage while the server runs
# answers 500 with the reason logged, never 200 with half the rows.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM
SECRET=s3cret-for-the-damage-tests
DB="$TMP/data/qrwatch.db"
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\npayload = https://dichvucong.gov.vn/p/ks\nofficial_domains = dichvucong.gov.vn\nimage = /nonexistent.png\n' > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
cat > "$TMP/qrwatchd.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = thon-dong-1 $TMP/probe.secret
CONF
start() {  # start NAME: qrwatchd in the background, its port in S
    rm -f "$TMP/$1.port"
    "$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/$1.port" 2>"$TMP/$1.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    wait_file "$TMP/$1.port"
    S=$(cat "$TMP/$1.port" 2>/dev/null)
}
csv_rows() { curl -s -o "$TMP/csv" -w '%{http_code}' "http://127.0.0.1:$S/api/v1/targets/ks/history.csv"; }

# 6,000 results of about 1.5 KB: a database much larger than SQLite's page cache
start first
python3 - "$TMP" <<'PY'
import json, sys, time
tmp = sys.argv[1]
now = int(time.time())
for b in range(6):
    rs = []
    for i in range(1000):
        t = now - 7200 + b * 1000 + i
        rs.append({"target": "ks", "verdict": "OK", "why_vi": "x" * 1500, "why_en": "x",
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t)),
                   "failed_step": 0, "total_us": 1000 + i,
                   "steps": [{"name": "a", "status": 200, "total_us": 10}]})
    body = {"probe": "thon-dong-1", "epoch": "00000000000000aa", "seq": b + 1,
            "clock_ms": now * 1000, "uplink": "4g", "results": rs}
    with open("%s/b%d.json" % (tmp, b), "w") as f:
        json.dump(body, f, separators=(",", ":"))
PY
for b in 0 1 2 3 4 5; do
    got=$("$SEND" "http://127.0.0.1:$S/api/v1/ingest" thon-dong-1 "$SECRET" "$TMP/b$b.json")
    case "$got" in 200*) ;; *) fail "batch $b accepted" "$got" ;; esac
done
expect_eq "the history has every result" "$(csv_rows):$(($(wc -l < "$TMP/csv") - 1))" "200:6000"
kill "$SPID"; wait "$SPID"
# the backup that docs/deploy.md tells to take, safe while qrwatchd runs
sqlite3 "$DB" ".backup '$TMP/backup.db'"
expect_eq "a backup taken as docs/deploy.md says" "$(sqlite3 "$TMP/backup.db" 'SELECT count(*) FROM results')" "6000"
expect_run "qrwatchd -t on the sound database" 0 "$SERVER" -t -c "$TMP/qrwatchd.conf"

# damage: 64 KB of garbage in the middle of the file
size=$(stat -c %s "$DB")
head -c 65536 /dev/urandom | dd of="$DB" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_run "qrwatchd -t finds the damage" 2 "$SERVER" -t -c "$TMP/qrwatchd.conf"
expect_contains "-t names the database" "$ERR" "database '$DB' is damaged (quick_check:"
expect_contains "-t says what is damaged" "$ERR" "is damaged (quick_check: Page "
expect_contains "-t says how to restore" "$ERR" "To restore the last backup: stop qrwatchd, move the file and its -wal and -shm files aside, copy the backup in its place and start qrwatchd; without a backup, see 'When the database is damaged' in docs/deploy.md"
"$SERVER" -c "$TMP/qrwatchd.conf" -p "$TMP/refused.port" 2>"$TMP/refused.log"
expect_eq "qrwatchd refuses to start on it" "$?" "1"
expect_contains "and says why" "$(cat "$TMP/refused.log")" "is damaged (quick_check:"
expect_eq "it never listened" "$(test -e "$TMP/refused.port" && echo yes || echo no)" "no"

# the restore, step by step as the message says
mkdir -p "$TMP/aside"
for f in "$DB" "$DB-wal" "$DB-shm"; do [ -e "$f" ] && mv "$f" "$TMP/aside/"; done
cp "$TMP/backup.db" "$DB"
start restored
expect_eq "the restored server starts" "$([ -n "$S" ] && echo yes)" "yes"
expect_eq "with every result of the backup" "$(csv_rows):$(($(wc -l < "$TMP/csv") - 1))" "200:6000"
kill "$SPID"; wait "$SPID"
# without a backup: what docs/deploy.md says, in a copy of the data folder
mkdir -p "$TMP/nobackup/damaged"
cp "$TMP/aside/"* "$TMP/nobackup/damaged/"
(
    cd "$TMP/nobackup" || exit 1
    v=$(sqlite3 damaged/qrwatch.db 'PRAGMA user_version')
    sqlite3 damaged/qrwatch.db .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 qrwatch.db
    sqlite3 qrwatch.db "PRAGMA user_version = $v"
) 2>"$TMP/salvage.err"
n=$(sqlite3 "$TMP/nobackup/qrwatch.db" 'SELECT count(*) FROM results')
expect_eq "without a backup, the dump keeps what can be read ($n of 6000)" "$([ "$n" -gt 5000 ] && [ "$n" -lt 6000 ] && echo yes)" "yes"
sed -e "s|^data_dir = .*|data_dir = $TMP/nobackup|" "$TMP/qrwatchd.conf" > "$TMP/salvaged.conf"
expect_run "qrwatchd -t accepts the salvaged database" 0 "$SERVER" -t -c "$TMP/salvaged.conf"
"$SERVER" -c "$TMP/salvaged.conf" -p "$TMP/salvaged.port" 2>"$TMP/salvaged.log" &
XPID=$!
PIDS="$PIDS $XPID"
wait_file "$TMP/salvaged.port"
expect_eq "and starts on it" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$TMP/salvaged.port")/api/v1/targets/ks/history.csv")" "200"
kill "$XPID"; wait "$XPID"
start restored2

# damage while the server runs: the next read meets it
size=$(stat -c %s "$DB")
head -c 65536 /dev/urandom | dd of="$DB" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
# a write by another connection makes the server read the file again
sqlite3 "$DB" "INSERT INTO counters (name, value) VALUES ('damage-test', 1)" 2>/dev/null
expect_eq "a damaged history is a 500, not a short CSV" "$(csv_rows)" "500"
expect_contains "its body says where to look" "$(cat "$TMP/csv")" "the server's log says why"
expect_contains "the log says why" "$(cat "$TMP/restored2.log")" "/api/v1/targets/ks/history.csv failed: database:"
expect_eq "the overview too" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S/target/ks")" "500"
kill "$SPID"; wait "$SPID"
expect_eq "no sanitizer reports" "$(cat "$TMP"/*.log | grep -c 'Sanitizer\|runtime error')" "0"
finish
