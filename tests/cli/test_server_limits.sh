#!/bin/sh
# test_server_limits.sh - qrwatchd under attack, on loopback: slow-loris
# connections are cut at their deadlines and per-address caps while pages
# and probes' batches are still answered; password guessing is rate-limited
# (429), runs off the HTTP threads, and takes as long for a name no user has
# as for a real one; an oversized body is refused before it is read.
# Timings here are generous bounds on behaviour; bench/attack.sh measures.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER="$QRW_BUILD/qrwatchd"
PY=/usr/bin/python3
ATTACK="$ROOT/tests/fixture/attack.py"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
SECRET=secret-for-the-limits-tests
attack() { "$PY" "$ATTACK" "$@"; }
# field NAME LINE: the word after NAME in LINE
field() { printf '%s\n' "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
# expect_le NAME GOT MAX / expect_ge NAME GOT MIN (decimals allowed)
expect_le() { if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; then pass "$1"; else fail "$1" "expected at most $3, got '$2'"; fi; }
expect_ge() { if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; then pass "$1"; else fail "$1" "expected at least $3, got '$2'"; fi; }

printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[target t1]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = portal.test\n' > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/probe.secret"
LINE=$(printf 'mật-khẩu đúng\n' | "$SERVER" --hash-password can-bo)

# conf NAME LINES...: a configuration with the given extra lines
conf() {
    name=$1
    shift
    { printf 'listen = 127.0.0.1:0\ndata_dir = %s/data-%s\ncatalog = %s/c.catalog\n' "$TMP" "$name" "$TMP"
      printf 'probe = p1 %s/probe.secret\nlog_level = info\n' "$TMP"
      for l in "$@"; do printf '%s\n' "$l"; done; } > "$TMP/$name.conf"
}
# start NAME LINES...: start a server with that configuration; S is its port
start() {
    conf "$@"
    "$SERVER" -c "$TMP/$1.conf" -p "$TMP/$1.port" 2>"$TMP/$1.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0
    while [ ! -s "$TMP/$1.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    S=$(cat "$TMP/$1.port")
}
stop() {
    kill "$SPID"
    wait "$SPID"
    expect_eq "$1: server stops cleanly" "$?" "0"
}
ingest() { attack measure "$S" ingest --probe p1 --secret "$SECRET" --target t1 "$@"; }

# ---- the configuration keys, checked by -t -----------------------------
conf good "header_timeout = 10s" "body_timeout = 1m" "max_pending_per_ip = 4" \
    "connection_reserve = 30" "page_threads = 3" "page_queue = 10" "auth_threads = 1" \
    "auth_queue = 4" "login_rate_ip = 20" "login_rate_user = 5" "login_cache = 5m" \
    "trusted_proxy = 127.0.0.1"
expect_run "every new limit accepted by -t" 0 "$SERVER" -t -c "$TMP/good.conf"
conf bad "header_timeout = 0" "connection_reserve = 95" "trusted_proxy = proxy.lan" \
    "max_pending_per_ip = 70" "login_rate_ip = 0" "login_cache = forever" "page_queue = many"
expect_run "bad limits refused by -t" 2 "$SERVER" -t -c "$TMP/bad.conf"
expect_contains "header_timeout named" "$ERR" "bad.conf:6: 'header_timeout' must be a duration from 1 s to 3600 s"
expect_contains "connection_reserve named" "$ERR" "bad.conf:7: 'connection_reserve' must be a whole number from 0 to 90, got '95'"
expect_contains "trusted_proxy named" "$ERR" "bad.conf:8: trusted_proxy must be an IP address"
expect_contains "login_rate_ip named" "$ERR" "bad.conf:10: 'login_rate_ip' must be a whole number from 1 to 100000"
expect_contains "login_cache named" "$ERR" "bad.conf:11: 'login_cache' must be a duration"
expect_contains "page_queue named" "$ERR" "bad.conf:12: 'page_queue' must be a whole number"
expect_contains "a pending cap above max_per_ip named" "$ERR" "max_pending_per_ip (70) is more than max_per_ip (64)"
for k in header_timeout body_timeout max_pending_per_ip connection_reserve page_threads \
    page_queue auth_threads auth_queue login_rate_ip login_rate_user login_cache trusted_proxy; do
    if grep -q "^#* *$k = " "$ROOT/dashboard/qrwatchd.conf.sample" && grep -q "| \`$k\` |" "$ROOT/docs/api.md"; then
        pass "$k is in the sample configuration and docs/api.md"
    else
        fail "$k is in the sample configuration and docs/api.md"
    fi
done
conf nofile
OUT=$( (ulimit -n 512 && "$SERVER" -t -c "$TMP/nofile.conf") 2>&1)
expect_contains "-t says when max_connections needs more open files than allowed" "$OUT" "max_connections = 4096 needs"
expect_contains "and what to raise" "$OUT" "raise LimitNOFILE= in qrwatchd.service"
want=$(awk '/#define SERVER_MAX_CONNECTIONS/ { a = $3 } /#define SERVER_FD_SPARE/ { b = $3 } END { print a + b }' "$ROOT/dashboard/server.h")
expect_ge "the systemd unit lets the default max_connections open its files" \
    "$(sed -n 's/^LimitNOFILE=//p' "$ROOT/dashboard/qrwatchd.service.in")" "$want"

# ---- slow-loris: the finding's 300 connections from 10 addresses -----------
# max_connections = 256 (the old default) so that the guard, not the larger
# default table, has to keep the dashboard open
start loris "max_connections = 256" "header_timeout = 5" "body_timeout = 5"
expect_eq "before the attack: a page" "$(field ok "$(attack measure "$S" page --count 2)")" "2"
attack slowloris "$S" --sources 10 --per-source 30 --interval 2 --duration 10 > "$TMP/loris.out" &
LPID=$!
sleep 3
R=$(attack measure "$S" page --count 6 --timeout 5)
expect_eq "during the attack every page is answered" "$(field ok "$R")" "6"
expect_le "and within 5 s" "$(field max_ms "$R")" 5000
R=$(ingest --count 6 --timeout 5)
expect_eq "during the attack every batch is acknowledged" "$(field ok "$R")" "6"
wait "$LPID"
expect_ge "the attackers' connections were closed by the server" "$(field closed_by_server "$(cat "$TMP/loris.out")")" 100
# one connection alone, never finishing its head or its body
attack hold "$S" head --interval 1 --max 12 > "$TMP/hold-head.out" &
HPID=$!
attack hold "$S" body --interval 1 --max 12 > "$TMP/hold-body.out"
wait "$HPID"
T=$(field closed_after "$(cat "$TMP/hold-head.out")")
expect_ge "a head trickled a line a second is cut at header_timeout" "$T" 4.5
expect_le "not long after it" "$T" 8
T=$(field closed_after "$(cat "$TMP/hold-body.out")")
expect_ge "a body trickled a byte a second is cut at body_timeout" "$T" 4.5
expect_le "not long after it" "$T" 8
# twelve silent connections from one address: the four oldest beyond max_pending_per_ip go
R=$(attack slowloris "$S" --sources 1 --per-source 12 --interval 1 --duration 3.5 --reopen 100)
expect_eq "12 connections from one address: 4 over max_pending_per_ip = 8 cut" "$(field closed_by_server "$R")" "4"
R=$(attack guess "$S" --clients 16 --duration 1)
expect_eq "16 quick clients behind one address are never cut" "$(field failed "$R")" "0"
stop loris
expect_contains "the log says why connections were closed" "$(cat "$TMP/loris.log")" "over max_pending_per_ip = 8"

# a table too small for the attackers: the share kept for answers holds
start reserve "max_connections = 64" "max_pending_per_ip = 32" "connection_reserve = 25"
attack slowloris "$S" --sources 10 --per-source 10 --interval 1 --duration 9 > "$TMP/reserve.out" &
LPID=$!
sleep 3
R=$(ingest --count 6 --timeout 5)
expect_eq "100 attackers on a 64-connection table: batches still acknowledged" "$(field ok "$R")" "6"
expect_eq "and pages answered" "$(field ok "$(attack measure "$S" page --count 3 --timeout 5)")" "3"
wait "$LPID"
stop reserve
expect_contains "the log names the share kept for answers" "$(cat "$TMP/reserve.log")" "over the share kept for answers"

# ---- login: rate limits, the dummy hash, checks off the HTTP threads -----
start login "$LINE"
U="http://127.0.0.1:$S/"
expect_eq "the right password opens the pages" "$(curl -s -o /dev/null -w '%{http_code}' -u 'can-bo:mật-khẩu đúng' "$U")" "200"
R=$(attack guess "$S" --clients 16 --duration 3 --user can-bo)
expect_ge "16 guessers are refused with 429" "$(field 429 "$R")" 1
expect_le "after at most the burst of login_rate_ip = 10 (and a refill) checks" "$(field 401 "$R")" 12
curl -s -D "$TMP/h429" -o "$TMP/b429" -u 'can-bo:đoán' "$U" >/dev/null
expect_contains "429 for a limited address" "$(head -n 1 "$TMP/h429")" "429"
expect_contains "with Retry-After" "$(cat "$TMP/h429")" "Retry-After: "
expect_contains "and a plain message" "$(cat "$TMP/b429")" "Too many login attempts. Try again in"
expect_contains "in Vietnamese first" "$(cat "$TMP/b429")" "Đăng nhập quá nhiều lần"
expect_eq "a user logged in before still gets the pages (no check, no limit)" "$(curl -s -o /dev/null -w '%{http_code}' -u 'can-bo:mật-khẩu đúng' "$U")" "200"
expect_eq "the user name is limited from another address too" "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -u 'can-bo:đoán' "$U")" "429"
expect_eq "another name from another address is not" "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -u 'ai-do:đoán' "$U")" "401"
R=$(ingest --count 3 --timeout 5)
expect_eq "probes push without a login meanwhile" "$(field ok "$R")" "3"
stop login
expect_contains "the log counts the refused logins" "$(cat "$TMP/login.log")" "wrong passwords"

# without effective limits: every guess is a PBKDF2 run, on the password-check thread
start guess "$LINE" "login_rate_ip = 100000" "login_rate_user = 100000" "login_cache = 0"
R=$(attack refusals "$S" --known can-bo --unknown khong-co-ai --count 6)
k=$(field known_ms "$R")
u=$(field unknown_ms "$R")
expect_eq "refusals measured" "$(field statuses "$R")" "401"
ratio=$(awk -v k="$k" -v u="$u" 'BEGIN { if (k <= 0 || u <= 0) print 0; else print (u < k ? u / k : k / u) }')
expect_ge "an unknown name takes as long to refuse as a known one (dummy hash; $u ms / $k ms)" "$ratio" 0.3
attack guess "$S" --clients 16 --duration 8 --user can-bo > "$TMP/guess.out" &
GPID=$!
sleep 1
R=$(ingest --count 10 --timeout 5 --gap 0.2)
expect_eq "while 16 clients guess, every batch is acknowledged" "$(field ok "$R")" "10"
expect_le "each within 2 s" "$(field max_ms "$R")" 2000
wait "$GPID"
expect_ge "the guesses ran their checks" "$(field 401 "$(cat "$TMP/guess.out")")" 16
expect_eq "every guess was answered (a full pool answers 503)" "$(field failed "$(cat "$TMP/guess.out")")" "0"
stop guess

# ---- an oversized body is refused before it is read -------------------
start body "max_body_kb = 256"
R=$(attack early413 "$S" --mb 100)
expect_eq "Content-Length over the limit: 413 before the body is sent" "$(field status "$R")" "413"
R=$(attack bigbody "$S" --mb 100)
expect_le "a 100 MB body with Content-Length is not read" "$(field sent_bytes "$R")" 20000000
R=$(attack bigbody "$S" --mb 100 --chunked)
expect_le "a 100 MB chunked body is cut off near the limit" "$(field sent_bytes "$R")" 20000000
expect_eq "and the connection closed" "$(field status "$R")" "0"
expect_eq "a batch within the limit is still acknowledged" "$(field ok "$(ingest --count 1)")" "1"
stop body
expect_contains "the log says a chunked body was cut off" "$(cat "$TMP/body.log")" "whose chunked body passed max_body_kb = 256"

finish
