#!/bin/sh
# test_daemon.sh - qrwatch-probe run: config checks, scheduling, signed
# pushes to a receiver, and no result lost or sent twice across kill -9.
. "$(dirname "$0")/lib.sh"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM

wait_file() {  # wait_file FILE [TENTHS]
    i=0
    while [ ! -s "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
}
count_lines() { c=$(grep -c "$2" "$1" 2>/dev/null); echo "${c:-0}"; }
# wait_lines FILE PATTERN N: until FILE has N lines matching, 15 s at most
wait_lines() {
    i=0
    while [ "$(count_lines "$1" "$2")" -lt "$3" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
}
# start_probe CONF LOG: run the daemon in the background, its pid in DPID
start_probe() {
    "$PROBE" run -c "$TMP/$1.conf" 2>"$TMP/$2" &
    DPID=$!
    PIDS="$PIDS $DPID"
}

mkdir -p "$TMP/assign"
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" -i "$TMP/assign" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
P=$(cat "$TMP/portal.port")

# six targets on the portal (portal.test, pinned to loopback by "resolve"),
# two of them broken
B="http://portal.test:$P"
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for t in t1 t2 t3 t4 t5 t6; do
    case $t in t5) path=gone ;; t6) path=error ;; *) path=dvc/khai-sinh ;; esac
    "$QRW_BUILD/qrwatch" encode -o "$TMP/$t.png" "$B/$path" >/dev/null
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$TMP/$t.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n'
done
} > "$TMP/c.catalog"

# conf NAME SERVER-PORT [SECRET]: a probe.conf pushing to the receiver
conf() {
    cat > "$TMP/$1.conf" <<CONF
probe_id = thon-dong-1
secret = ${3:-s3cret-for-the-tests-only}
server = http://127.0.0.1:$2/api/v1/ingest
catalog = $TMP/c.catalog
uplink = 4g
spool_dir = $TMP/spool-$1
resolve = portal.test:$P:127.0.0.1
push_interval = 1
first_push_delay_max = 0
flush_every = 1
concurrency = 3
CONF
}

# -t validates
conf good 1
expect_run "run -t" 0 "$PROBE" run -t -c "$TMP/good.conf"
expect_contains "run -t says ok" "$OUT" "ok: probe 'thon-dong-1', 6 targets"
printf 'probe_id = x\ncatalog = %s\nconcurency = 4\npush_interval = 0\nuplink = 6g\nserver = ftp://x/\nemulate = 6g\n' "$TMP/c.catalog" > "$TMP/bad.conf"
expect_run "run -t on a bad config" 2 "$PROBE" run -t -c "$TMP/bad.conf"
expect_contains "bad key named with did-you-mean" "$ERR" "bad.conf:3: unknown key 'concurency' (did you mean 'concurrency'?)"
expect_contains "bounds named" "$ERR" "bad.conf:4: 'push_interval' must be a duration from 1s to 3600s"
expect_contains "choices named" "$ERR" "bad.conf:5: 'uplink' must be one of"
expect_contains "bad server named" "$ERR" "bad.conf:6: 'server' is not a usable http(s) URL"
expect_contains "unknown emulation profile named" "$ERR" "bad.conf:7: 'emulate' must be one of: none 3g 4g 4g-weak 5g"
# an empty value for a choice key is an error, not an endless loop (found by a fuzzer)
for k in uplink log log_level emulate; do
    printf 'probe_id = x\nsecret = s3cret-for-the-tests-only\ncatalog = %s\n%s =\n' "$TMP/c.catalog" "$k" > "$TMP/empty-$k.conf"
    expect_run "run -t with an empty '$k'" 2 timeout 10 "$PROBE" run -t -c "$TMP/empty-$k.conf"
    expect_contains "empty '$k' named" "$ERR" "empty-$k.conf:4: '$k' must be one of"
done
# an empty value for a required key is an error, not a probe without an id
# or a catalog (found by a fuzzer)
printf 'probe_id =\ncatalog = %s\n' "$TMP/c.catalog" > "$TMP/empty-probe_id.conf"
printf 'probe_id = x\ncatalog =\n' > "$TMP/empty-catalog.conf"
for kl in probe_id:1 catalog:2; do
    k=${kl%:*}
    expect_run "run -t with an empty '$k'" 2 "$PROBE" run -t -c "$TMP/empty-$k.conf"
    expect_contains "empty '$k' named" "$ERR" "empty-$k.conf:${kl#*:}: '$k' is required and needs a value"
done
printf 'probe_id = x\ncatalog = %s\nserver = http://qrwatch.example.vn/api/v1/ingest\n' "$TMP/c.catalog" > "$TMP/nosecret.conf"
expect_run "run -t without a secret" 2 "$PROBE" run -t -c "$TMP/nosecret.conf"
expect_contains "missing secret named" "$ERR" "needs 'secret' or 'secret_file'"

# start_receiver NAME ARGS...: a receiver checking the shared secret
start_receiver() {
    name=$1
    shift
    rm -f "$TMP/$name.port"
    "$QRW_BUILD/tests/receiver" -s s3cret-for-the-tests-only -p "$TMP/$name.port" \
        -l "$TMP/received.log" "$@" >/dev/null 2>&1 &
    RPID=$!
    PIDS="$PIDS $RPID"
    wait_file "$TMP/$name.port"
}

# 1. all six results arrive, signed, in batches the receiver accepts
start_receiver r1
R=$(cat "$TMP/r1.port")
conf run1 "$R"
start_probe run1 run1.log
wait_lines "$TMP/received.log" ' t[1-6] ' 6
# SIGHUP reloads the catalog without a restart: add a seventh target
cp "$TMP/c.catalog" "$TMP/c.catalog.orig"
printf '\n[target t7]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\nofficial_domains = portal.test\nallow_private = 127.0.0.1\n' "$TMP/t1.png" >> "$TMP/c.catalog"
kill -HUP "$DPID"
wait_lines "$TMP/received.log" ' t7 ' 1
expect_contains "SIGHUP reloads the catalog" "$(cat "$TMP/run1.log")" "7 targets"
expect_eq "the new target is checked" "$(count_lines "$TMP/received.log" ' t7 ')" "1"
cp "$TMP/c.catalog.orig" "$TMP/c.catalog"
kill "$DPID"
wait "$DPID"
expect_eq "daemon stops cleanly on SIGTERM" "$?" "0"
expect_eq "six results received" "$(count_lines "$TMP/received.log" ' t[1-6] ')" "6"
expect_contains "t5 is STALE" "$(cat "$TMP/received.log")" "t5 STALE"
expect_contains "t6 is DOWN" "$(cat "$TMP/received.log")" "t6 DOWN"
expect_eq "no batch rejected" "$(count_lines "$TMP/received.log" REJECT)" "0"
kill "$RPID"
rm -f "$TMP/received.log"

# 2. a wrong secret: the receiver refuses, the results stay in the spool
start_receiver r2
R=$(cat "$TMP/r2.port")
conf wrong "$R" wrong-secret-of-16-chars
start_probe wrong wrong.log
wait_lines "$TMP/received.log" REJECT 1
kill "$DPID"
wait "$DPID"
expect_contains "bad signature refused" "$(cat "$TMP/received.log" 2>/dev/null)" "REJECT 0 bad signature"
expect_contains "probe says the push failed" "$(cat "$TMP/wrong.log")" "push failed, will retry: server answered HTTP 401"
kill "$RPID"
rm -f "$TMP/received.log"

# 3. kill -9 while results wait in the spool (the server is down), then
#    restart both: every spooled result arrives once, in order
start_receiver r3 -f 100000
R=$(cat "$TMP/r3.port")
conf crash "$R"
start_probe crash crash1.log
wait_lines "$TMP/crash1.log" 'kept result' 6
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
kept=$(count_lines "$TMP/crash1.log" 'kept result')
expect_eq "six results spooled before the crash" "$kept" "6"
kill "$RPID"
start_receiver r4
R=$(cat "$TMP/r4.port")
conf crash "$R"
start_probe crash crash2.log
wait_lines "$TMP/received.log" ' t[1-6] ' 6
sleep 1
kill "$DPID"
wait "$DPID"
# the first six lines are the results from before the crash, each target once
first=$(head -n 6 "$TMP/received.log" | awk '{print $2}' | sort | tr '\n' ' ')
expect_eq "spooled results delivered after restart" "$first" "t1 t2 t3 t4 t5 t6 "
dups=$(awk '{print $2, $4}' "$TMP/received.log" | sort | uniq -d | wc -l)
expect_eq "no result delivered twice" "$dups" "0"
order=$(awk '{print $1}' "$TMP/received.log" | sort -n -c 2>&1 && echo sorted)
expect_eq "batches arrive in sequence order" "$order" "sorted"
# the restarted probe checks again: its newer results come after the old ones
expect_contains "restart picked up the spool" "$(cat "$TMP/crash2.log")" "started: 6 targets"

# 4. the catalog comes from the server: fetched, cached with its ETag,
#    then kept while the server answers 304 or is gone
cp "$TMP/c.catalog" "$TMP/assign/thon-dong-1"
kill "$RPID"
rm -f "$TMP/received.log"
start_receiver r5
R=$(cat "$TMP/r5.port")
conf fetch "$R"
sed -i "s|^catalog = .*|catalog = $TMP/cache.catalog\ncatalog_url = http://127.0.0.1:$P/assign/thon-dong-1\ncatalog_refresh = 1|" "$TMP/fetch.conf"
expect_run "run -t before the first fetch" 0 "$PROBE" run -t -c "$TMP/fetch.conf"
expect_contains "run -t says it will fetch" "$OUT" "will be fetched from"
start_probe fetch fetch.log
wait_lines "$TMP/received.log" ' t[1-6] ' 6
sleep 1.5
kill "$DPID"
wait "$DPID"
expect_eq "results from the fetched catalog" "$(count_lines "$TMP/received.log" ' t[1-6] ')" "6"
expect_contains "catalog fetched and cached" "$(cat "$TMP/fetch.log")" "new catalog from the server"
expect_eq "cache holds the server's catalog" "$(cmp -s "$TMP/cache.catalog" "$TMP/assign/thon-dong-1" && echo same)" "same"
expect_contains "ETag kept beside the cache" "$(cat "$TMP/cache.catalog.etag")" '"'
expect_eq "refreshes send If-None-Match and change nothing" \
    "$(count_lines "$TMP/fetch.log" "new catalog from the server")" "1"
# the server loses the assignment: the probe keeps its cached catalog
rm "$TMP/assign/thon-dong-1"
start_probe fetch fetch2.log
sleep 1.5
kill "$DPID"
wait "$DPID"
expect_contains "cached catalog used at start" "$(cat "$TMP/fetch2.log")" "6 targets"
expect_contains "fetch failure said plainly" "$(cat "$TMP/fetch2.log")" "keeping the cached catalog: server answered HTTP 404"

# A reload on a busy probe takes effect at once: twelve slow targets keep
# four checks running at every moment (each answers after 4 s), and a
# SIGHUP must not wait for a moment with none running
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\n'
"$QRW_BUILD/qrwatch" encode -o "$TMP/slow.png" "$B/slow/4000" >/dev/null
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
    printf '\n[target s%s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/slow.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n'
done
} > "$TMP/busy.catalog"
cat > "$TMP/busy.conf" <<CONF
probe_id = thon-dong-1
secret = s3cret-for-the-tests-only
catalog = $TMP/busy.catalog
spool_dir = $TMP/spool-busy
resolve = portal.test:$P:127.0.0.1
flush_every = 1
concurrency = 4
CONF
start_probe busy busy.log
wait_lines "$TMP/busy.log" "catalog '.*': 12 targets" 1
sleep 1.5	# the first four checks are waiting for their pages now
# the new catalog drops s01 (whose check may be running) and adds n01
sed -i 's/^\[target s01\]$/[target n01]/' "$TMP/busy.catalog"
kill -HUP "$DPID"
i=0
while [ "$(count_lines "$TMP/busy.log" "catalog '.*': 12 targets")" -lt 2 ] && [ $i -lt 20 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "a SIGHUP is applied within 2 s while checks run" \
    "$(count_lines "$TMP/busy.log" "catalog '.*': 12 targets")" "2"
# ZBar and the image libraries are the decoder program's, never the daemon's
expect_eq "the running daemon maps no ZBar, ZXing, libpng or libjpeg" \
    "$(grep -c -E 'libzbar|libZXing|libpng|libjpeg' "/proc/$DPID/maps")" "0"
wait_lines "$TMP/busy.log" "kept result for n01" 1
expect_contains "new checks start under the new catalog" "$(cat "$TMP/busy.log")" "kept result for n01"
kill "$DPID"
wait "$DPID"
"$QRW_BUILD/tests/spooldump" "$TMP"/spool-busy/seg-* > "$TMP/busy.results" 2>/dev/null
expect_eq "every check that ran before the reload kept its result" \
    "$(grep -c '^s[0-9]* ' "$TMP/busy.results")" "$(grep -c 'kept result for s' "$TMP/busy.log")"
expect_eq "no check was lost or left running at the reload" "$(grep -c 'lost' "$TMP/busy.log")" "0"

# a probe without its decoder says so at run -t, and each board says why
sed "s|^catalog = .*|catalog = $TMP/c.catalog|; s|^spool_dir = .*|spool_dir = $TMP/spool-nodec|" \
    "$TMP/busy.conf" > "$TMP/nodec.conf"
echo "decoder = $TMP/no-such-decoder" >> "$TMP/nodec.conf"
expect_run "run -t without the decoder program" 2 "$PROBE" run -t -c "$TMP/nodec.conf"
expect_contains "run -t names the missing decoder" "$ERR" "the board decoder '$TMP/no-such-decoder' cannot be run"
expect_run "a check without the decoder program" 1 "$PROBE" check -j -c "$TMP/c.catalog" \
    --resolve "portal.test:$P:127.0.0.1" --decoder "$TMP/no-such-decoder" t1
expect_contains "is UNREADABLE, saying the decoder cannot be run" "$OUT" "cannot be run"

# A board with no code the decoder reads: its photo is kept beside the
# spool for the server's whole cascade, byte for byte, and dropped once
# the board reads again; unread_keep_mb = 0 keeps none
/usr/bin/convert -size 320x240 gradient: "$TMP/u1.png"
cp "$TMP/u1.png" "$TMP/u1.orig.png"
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[board b]\nplace = p\nlocation = Nhà văn hoá\n'
for t in u1 u2; do
    img=$TMP/u1.png; [ $t = u2 ] && img=$TMP/t1.png
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$t" "$img"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n'
done
} > "$TMP/unread.catalog"
sed "s|^catalog = .*|catalog = $TMP/unread.catalog|; s|^spool_dir = .*|spool_dir = $TMP/spool-unread|" \
    "$TMP/busy.conf" > "$TMP/unread.conf"
unread_round() {  # unread_round LOG: one round of both checks
    start_probe unread "$1"
    wait_lines "$TMP/$1" "kept result for u[12]" 2
    kill "$DPID"
    wait "$DPID"
}
unread_round unread1.log
expect_run "the unreadable board's photo is kept as it was" 0 \
    cmp "$TMP/u1.orig.png" "$TMP/spool-unread/unread/u1.png"
expect_eq "a board that reads keeps no photo" "$(ls "$TMP/spool-unread/unread")" "u1.png"
expect_contains "the log says where the photo is" "$(cat "$TMP/unread1.log")" \
    "u1: no code read on the board photo; kept in '$TMP/spool-unread/unread'"
cp "$TMP/t1.png" "$TMP/u1.png"
unread_round unread2.log
expect_eq "the photo goes once the board reads again" "$(ls "$TMP/spool-unread/unread")" ""
cp "$TMP/u1.orig.png" "$TMP/u1.png"
echo "unread_keep_mb = 0" >> "$TMP/unread.conf"
sed -i "s|^spool_dir = .*|spool_dir = $TMP/spool-unread0|" "$TMP/unread.conf"
unread_round unread3.log
expect_eq "unread_keep_mb = 0 keeps none" "$(ls "$TMP/spool-unread0" | grep -c unread)" "0"

# boards belong to the probe at their place; flows to all, a place or a list
"$QRW_BUILD/qrwatch" encode -o "$TMP/own.png" "$B/dvc/khai-sinh" >/dev/null
{
printf '[place ward]\nprovince = Tỉnh Bắc Ninh\ncommune = Phường Đông\n\n'
printf '[place lane]\nprovince = Tỉnh Bắc Ninh\ncommune = Phường Đông\nvillage = Ngõ 3\n\n'
printf '[board bw]\nplace = ward\nlocation = UBND phường\nprobe = thon-dong-1\n\n'
printf '[board bl]\nplace = lane\nlocation = Đầu ngõ\nprobe = ngo-3\n'
# target BOARD [KEY = VALUE]...: a code of the portal's birth registration
tgt() {
    printf '\n[target %s]\nboard = %s\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$1" "$2" "$TMP/own.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 60\n'
    shift 2
    for kv in "$@"; do printf '%s\n' "$kv"; done
}
tgt own bw
tgt boardonly bw "checked_from = ngo-3"
tgt flowonly bl "payload = $B/dvc/khai-sinh"
tgt others bl "checked_from = place lane"
tgt nopayload bl
} > "$TMP/probes.catalog"
sed "s|^catalog = .*|catalog = $TMP/probes.catalog|; s|^spool_dir = .*|spool_dir = $TMP/spool-probes|" \
    "$TMP/busy.conf" > "$TMP/probes.conf"
start_probe probes probes.log
wait_lines "$TMP/probes.log" "kept result for" 3
sleep 1
kill "$DPID"
wait "$DPID"
"$QRW_BUILD/tests/spooldump" -j "$TMP"/spool-probes/seg-* > "$TMP/probes.results" 2>/dev/null
res() { grep "\"target\":\"$1\"" "$TMP/probes.results" | head -n 1; }
expect_contains "its own board, flow walked: all of it" "$(res own)" '"decode_step":"as-is"'
expect_contains "and its steps" "$(res own)" '"name":"Mở trang"'
expect_contains "its board, the flow another's: the board alone" "$(res boardonly)" \
    '"verdict":"OK","why_vi":"Mã trên bảng là mã thật của thủ tục; trang của thủ tục do thiết bị đo khác kiểm tra."'
expect_contains "with no step" "$(res boardonly)" '"steps":[]'
expect_contains "another's board, its flow: from the registered address" "$(res flowonly)" \
    '"decode_step":""'
expect_contains "walked" "$(res flowonly)" '"status":200'
expect_eq "another's board and flow: not checked here" "$(res others)" ""
expect_eq "another's board, no address to walk from: the board's probe does it all" \
    "$(res nopayload)" ""
tgt asked bl "checked_from = thon-dong-1" >> "$TMP/probes.catalog"
start_probe probes probes2.log
wait_lines "$TMP/probes2.log" "catalog '" 1
kill "$DPID"
wait "$DPID"
expect_contains "named to walk a flow it has no address for: the log says so" \
    "$(cat "$TMP/probes2.log")" "target 'asked': its board is probe 'ngo-3''s and it has no 'payload'"
expect_contains "the log counts what is checked here" "$(cat "$TMP/probes.log")" \
    "5 targets, 3 of them checked here"
expect_run "lint flags the flow nobody can walk" 1 "$QRW_BUILD/qrwatch" lint "$TMP/probes.catalog"
expect_contains "named with its line" "$ERR" "target 'boardonly' is checked from probes that do not read its board ('thon-dong-1' does)"
expect_contains "and the one asked of a probe without the address" "$ERR" "target 'asked'"

finish
