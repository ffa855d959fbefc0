#!/bin/sh
# bench/attack.sh - qrwatchd under attack: what a logged-in page load and a
# probe's batch see at rest, under slow-loris (300 connections from 10
# addresses, a header line every 5 s) and under 16 password guessers, as
# ratios to the same build at rest in the same run. With a baseline commit
# (default: the last one before the attack fixes) that build runs the same
# scenarios with its defaults, for the before/after comparison. Writes its
# section of docs/BENCHMARKS.md (replacing it, or appended after the rest).
#
# Usage: sh bench/attack.sh BUILD-DIR [BASELINE-COMMIT | ""]
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
. bench/section.sh
BASE_REV=${2-979db94}
OUT=docs/BENCHMARKS.md
TITLE="## qrwatchd under attack: slow-loris and password guessing"
PY=/usr/bin/python3
ATTACK="$PWD/tests/fixture/attack.py"
SECRET=secret-for-the-attack-bench
PASS="mật-khẩu đúng"
MEASURE_S=20		# each measurement, page and batch side by side
ME=127.0.0.100		# the measuring clients: an address of their own
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT INT TERM
attack() { "$PY" "$ATTACK" "$@"; }
field() { printf '%s\n' "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

BUILDS="$O"
if [ -n "$BASE_REV" ]; then
    if git rev-parse -q --verify "$BASE_REV^{commit}" >/dev/null 2>&1; then
        echo "== building the baseline $BASE_REV"
        mkdir -p "$TMP/base"
        git archive "$BASE_REV" | tar -x -C "$TMP/base"
        make -C "$TMP/base" --no-print-directory -j2 build/qrwatchd >/dev/null
        BUILDS="$TMP/base/build $O"
    else
        echo "bench: no commit '$BASE_REV' here: measuring this build only" >&2
        BASE_REV=""
    fi
fi

printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[target t1]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = x.png\nofficial_domains = portal.test\n' > "$TMP/c.catalog"
printf '%s\n' "$SECRET" > "$TMP/secret"
USERLINE=$(printf '%s\n' "$PASS" | "$O/qrwatchd" --hash-password can-bo)

# start BUILD NAME EXTRA-LINES...: S is the port
start() {
    b=$1 name=$2
    shift 2
    rm -rf "$TMP/data"
    { printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\n' "$TMP" "$TMP"
      printf 'probe = p1 %s/secret\nlog_level = error\n%s\n' "$TMP" "$USERLINE"
      for l in "$@"; do printf '%s\n' "$l"; done; } > "$TMP/$name.conf"
    rm -f "$TMP/port"
    "$b/qrwatchd" -c "$TMP/$name.conf" -p "$TMP/port" 2>>"$TMP/server.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    S=$(cat "$TMP/port")
}
stop() { kill "$SPID"; wait "$SPID" 2>/dev/null || true; }

# measure: a logged-in page load and a batch, side by side for MEASURE_S;
# sets PAGE and INGEST to attack.py's lines
measure() {
    attack measure "$S" page --for "$MEASURE_S" --gap 0.2 --timeout 5 --path / \
        --user can-bo --password "$PASS" --source "$ME" > "$TMP/page.out" &
    mp=$!
    attack measure "$S" ingest --for "$MEASURE_S" --gap 0.2 --timeout 5 --probe p1 \
        --secret "$SECRET" --target t1 --source "$ME" > "$TMP/ingest.out"
    wait "$mp"
    PAGE=$(cat "$TMP/page.out")
    INGEST=$(cat "$TMP/ingest.out")
}

# row LABEL: one table row from PAGE and INGEST, with ratios to REST_PAGE/REST_INGEST
row() {
    pp=$(field median_ms "$PAGE") ip=$(field median_ms "$INGEST")
    printf '| %s | %s ms | %s ms | %s of %s | %s | %s ms | %s ms | %s of %s | %s |\n' "$1" \
        "$pp" "$(field p90_ms "$PAGE")" "$(field failed "$PAGE")" "$(field n "$PAGE")" \
        "$(awk -v a="$pp" -v b="$REST_PAGE" 'BEGIN { printf "%.1f×", a / b }')" \
        "$ip" "$(field p90_ms "$INGEST")" "$(field failed "$INGEST")" "$(field n "$INGEST")" \
        "$(awk -v a="$ip" -v b="$REST_INGEST" 'BEGIN { printf "%.1f×", a / b }')"
}

ROWS="" TIMING="" BEFORE=""
if [ -n "$BASE_REV" ]; then
    BEFORE="
\"Before\" is commit $BASE_REV, the last one before these limits
(threads = 2, max_connections = 256, max_per_ip = 32, connection_timeout
= 30, no other limit)."
fi
for b in $BUILDS; do
    if [ "$b" = "$O" ]; then who="this build"; else who="before ($BASE_REV)"; fi
    echo "== $who: at rest"
    start "$b" rest
    measure
    REST_PAGE=$(field median_ms "$PAGE") REST_INGEST=$(field median_ms "$INGEST")
    ROWS="$ROWS$(row "$who: at rest")
"
    echo "== $who: slow-loris, 300 connections from 127.0.0.1-10, a header line every 5 s"
    attack slowloris "$S" --sources 10 --per-source 30 --interval 5 \
        --duration $((MEASURE_S + 10)) > "$TMP/loris.out" &
    lp=$!
    sleep 5
    measure
    wait "$lp"
    ROWS="$ROWS$(row "$who: slow-loris")
"
    stop
    echo "== $who: 16 clients guessing the password"
    start "$b" guess
    attack measure "$S" page --count 1 --path / --user can-bo --password "$PASS" --source "$ME" >/dev/null
    attack guess "$S" --clients 16 --duration $((MEASURE_S + 4)) --user can-bo > "$TMP/guess.out" &
    gp=$!
    sleep 2
    measure
    wait "$gp"
    G=$(cat "$TMP/guess.out")
    ROWS="$ROWS$(row "$who: 16 guessers ($(field 401 "$G") refused, $(field 429 "$G") rate-limited)")
"
    stop
    if [ "$b" = "$O" ]; then
        echo "== $who: 16 guessers with the rate limits out of the way"
        start "$b" nolimit "login_rate_ip = 100000" "login_rate_user = 100000"
        attack measure "$S" page --count 1 --path / --user can-bo --password "$PASS" --source "$ME" >/dev/null
        attack guess "$S" --clients 16 --duration $((MEASURE_S + 4)) --user can-bo > "$TMP/guess.out" &
        gp=$!
        sleep 2
        measure
        wait "$gp"
        G=$(cat "$TMP/guess.out")
        ROWS="$ROWS$(row "$who: 16 guessers, no rate limit ($(field 401 "$G") refused)")
"
        stop
        start "$b" timing "login_rate_ip = 100000" "login_rate_user = 100000"
    else
        start "$b" timing
    fi
    R=$(attack refusals "$S" --known can-bo --unknown khong-co-ai --count 10)
    k=$(field known_ms "$R") u=$(field unknown_ms "$R")
    TIMING="$TIMING| $who | $k ms | $u ms | $(awk -v k="$k" -v u="$u" 'BEGIN { printf "%.2f", u / k }') |
"
    stop
done
printf '%s' "$ROWS"
printf '%s' "$TIMING"

SECTION=$(cat <<EOF2
$TITLE

\`bench/attack.sh\`: one small catalog, one user. The measuring clients
(from 127.0.0.100, each request on a new connection, 5 s timeout) load the
overview page logged in and push a signed one-result batch, side by side,
every 0.2 s for $MEASURE_S s; "failed" counts requests that timed out or
were refused. Ratios are to the same build at rest in the same run.
Slow-loris: 300 connections from 127.0.0.1-10 (30 each, under max_per_ip),
each sending one more header line every 5 s and never ending its head,
a connection the server closes opened again a second later. Guessers:
16 clients on 127.0.0.1 trying wrong passwords as fast as they are
answered. Every server runs with its defaults.$BEFORE

| scenario | page p50 | page p90 | pages failed | page ratio | batch p50 | batch p90 | batches failed | batch ratio |
|---|---|---|---|---|---|---|---|---|
$(printf '%s' "$ROWS")

A failed request counts as its 5 s timeout. A logged-in page load at
rest costs a PBKDF2 run where logins are not remembered; here a login is
checked once and then remembered for \`login_cache\`. Under slow-loris
the attackers' connections are cut at the per-address cap and at
\`header_timeout\`; under guessing, password checks run on their own
thread and past \`login_rate_ip\` are refused with 429 before any hashing.
A refused guesser comes back within a fraction of a millisecond, so what
the rate-limited row still shows is that flood of requests (client and
server sharing two cores), not password checks.

Refusing a wrong password, median of 10 each (rate limits out of the way);
a ratio near 1 means the time tells nobody which names exist:

| build | known user | unknown user | ratio |
|---|---|---|---|
$(printf '%s' "$TIMING")
EOF2
)
if [ -z "$BASE_REV" ]; then SECTION=$(printf '%s\n' "$SECTION" | grep -v '^| before'); fi
printf '%s\n' "$SECTION" > "$TMP/section"
put_section "$OUT" "$TMP/section"
