#!/bin/sh
# bench/probe.sh - qrwatch-probe next to Prometheus blackbox_exporter
# (Debian's prometheus-blackbox-exporter), in one run against the same
# fixture portal and URLs: peak resident memory, CPU time per check, and
# first-byte timing error against injected delays; then the cross-built
# probe's size per architecture and its memory under qemu-user.
# Then the cost of a check with unchanged boards against a bare libcurl
# loop on fresh connections. Replaces its sections of docs/BENCHMARKS.md.
# Usage: sh bench/probe.sh BUILD-DIR
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
OUT=docs/BENCHMARKS.md
N=200
INFLIGHT=16
BB=prometheus-blackbox-exporter
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT INT TERM
command -v $BB >/dev/null || { echo "bench: $BB not found (.ci/deps installs it)" >&2; exit 1; }
wait_file() { i=0; while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }

"$O/tests/portal" -p "$TMP/port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/port"
P=$(cat "$TMP/port")
URL="http://portal.test:$P/slow/50"

# the same N checks of a page answered after 50 ms, for both
"$O/qrwatch" encode -o "$TMP/board.png" "$URL" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = x\n'
i=0
while [ $i -lt $N ]; do
    printf '\n[target t%03d]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/board.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 1h\n'
    i=$((i + 1))
done
} > "$TMP/c.catalog"
cat > "$TMP/probe.conf" <<CONF
probe_id = bench
catalog = $TMP/c.catalog
spool_dir = $TMP/spool
resolve = portal.test:$P:127.0.0.1
concurrency = $INFLIGHT
flush_every = 50
log_level = info
CONF

echo "== qrwatch-probe: $N checks at $INFLIGHT in flight"
/usr/bin/time -f "%M %U %S" -o "$TMP/probe.time" "$O/qrwatch-probe" run -c "$TMP/probe.conf" 2>"$TMP/probe.log" &
TPID=$!
i=0
while [ "$(grep -c 'kept result' "$TMP/probe.log" 2>/dev/null || true)" -lt $N ] && [ $i -lt 600 ]; do
    sleep 0.1; i=$((i + 1))
done
kept=$(grep -c 'kept result' "$TMP/probe.log" || true)
pkill -TERM -f "^$O/qrwatch-probe run -c $TMP/probe.conf" || true
wait "$TPID" || true
set -- $(tail -n 1 "$TMP/probe.time")
q_rss=$1 q_cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.3f", u + s }')

echo "== blackbox_exporter: the same $N checks at $INFLIGHT in flight"
printf 'modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n' > "$TMP/bb.yml"
BBPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/time -f "%M %U %S" -o "$TMP/bb.time" $BB --config.file="$TMP/bb.yml" \
    --web.listen-address="127.0.0.1:$BBPORT" >"$TMP/bb.log" 2>&1 &
BPID=$!
i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$BBPORT/" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PROBE="http://127.0.0.1:$BBPORT/probe?module=http_2xx&target=http://127.0.0.1:$P/slow/50"
i=0; while [ $i -lt $N ]; do echo "$PROBE"; i=$((i + 1)); done |
    xargs -P $INFLIGHT -n 1 curl -s > "$TMP/bb.metrics"
b_ok=$(grep -c '^probe_success 1$' "$TMP/bb.metrics" || true)
# the delays, while it runs
bb_err() {  # bb_err DELAY-MS: one probe's processing phase minus the delay, in µs
    curl -s "http://127.0.0.1:$BBPORT/probe?module=http_2xx&target=http://127.0.0.1:$P/slow/$1" |
        sed -n 's/^probe_http_duration_seconds{phase="processing"} //p' |
        awk -v d="$1" '{ printf "%d", $1 * 1e6 - d * 1000 }'
}
q_err() {
    "$O/qrwatch-probe" check --json --allow-private 127.0.0.1 "http://127.0.0.1:$P/slow/$1" |
        sed -n 's/.*"ttfb_us":\([0-9]*\).*/\1/p' | awk -v d="$1" '{ printf "%d", $1 - d * 1000 }'
}
rows=""
for d in 50 200 500 1000; do
    qe="" be=""
    k=0
    while [ $k -lt 5 ]; do qe="$qe $(q_err $d)"; be="$be $(bb_err $d)"; k=$((k + 1)); done
    stat() { echo "$1" | awk '{ s = 0; m = 0; for (i = 1; i <= NF; i++) { s += $i; a = $i < 0 ? -$i : $i; if (a > m) m = a }
        printf "%.2f ms | %.2f ms", s / NF / 1000, m / 1000 }'; }
    rows="$rows| $d ms | $(stat "$qe") | $(stat "$be") |
"
done
pkill -TERM -P "$BPID" || true	# the exporter, not GNU time
wait "$BPID" || true
set -- $(tail -n 1 "$TMP/bb.time")
b_rss=$1 b_cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.3f", u + s }')
per() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.2f", c * 1000 / n }'; }
# the floor any prober built on Debian's libcurl pays: a bare multi loop, same GETs
cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$TMP/curl_floor" \
    bench/curl_floor.c $(pkg-config --cflags --libs libcurl)
i=0; while [ $i -lt $N ]; do echo "http://127.0.0.1:$P/slow/50"; i=$((i + 1)); done > "$TMP/urls"
/usr/bin/time -f "%M %U %S" -o "$TMP/floor.time" "$TMP/curl_floor" $INFLIGHT < "$TMP/urls" > /dev/null 2>&1
set -- $(tail -n 1 "$TMP/floor.time")
f_rss=$1 f_per=$(awk -v u="$2" -v s="$3" -v n="$N" 'BEGIN { printf "%.2f", (u + s) * 1000 / n }')
q_per=$(per "$q_cpu" "$kept")
b_per=$(per "$b_cpu" "$((N + 21))")
mem_ratio=$(awk -v q="$q_rss" -v b="$b_rss" 'BEGIN { printf "%.2f", q / b }')
echo "qrwatch-probe: $kept checks, $q_rss KB, $q_per ms CPU/check"
echo "blackbox_exporter: $b_ok successful probes, $b_rss KB, $b_per ms CPU/probe"

# the cross-built probe: size per architecture, memory under qemu-user
cross=""
for a in mipsel armhf arm64; do
    bin="build/cross-$a/qrwatch-probe.stripped"
    [ -x "$bin" ] || continue
    case "$a" in arm64) q=qemu-aarch64 ;; armhf) q=qemu-arm ;; mipsel) q=qemu-mipsel ;; esac
    size=$(wc -c < "$bin")
    /usr/bin/time -f "%M" -o "$TMP/q.time" $q -L "build/sysroot-$a" "$bin" check --json \
        --allow-private 127.0.0.1 "http://127.0.0.1:$P/slow/50" > "$TMP/q.json" || true
    verdict=$(sed -n 's/.*"verdict":"\([A-Z_]*\)".*/\1/p' "$TMP/q.json")
    cross="$cross| $a | $size bytes ($((size / 1024)) KB) | $(tail -n 1 "$TMP/q.time") KB | $verdict |
"
done
/usr/bin/time -f "%M" -o "$TMP/n.time" "$O/qrwatch-probe" check --json --allow-private 127.0.0.1 \
    "http://127.0.0.1:$P/slow/50" > /dev/null
native_check=$(tail -n 1 "$TMP/n.time")

cat > "$TMP/bb.md" <<EOF2
## qrwatch-probe next to blackbox_exporter

One run, one fixture portal, the same page (answered after 50 ms), $N
checks with $INFLIGHT in flight. \`qrwatch-probe run\` does more per check
than blackbox_exporter: it also decodes the board photo (in a decoder
program of its own) and judges the code. Each of these checks is its
target's first, so each decodes; a later check of an unchanged board
reuses the reading (the cost of a check, below). Peak resident memory and CPU (user + system, children
included) from GNU time over each whole run; blackbox_exporter's CPU is
divided by the $((N + 21)) probes it answered in its run (the load and the
timing probes).

| | checks | peak RSS | CPU per check |
|---|---|---|---|
| \`qrwatch-probe run\` | $kept | $q_rss KB | $q_per ms |
| blackbox_exporter $($BB --version 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -n 1) | $b_ok | $b_rss KB | $b_per ms |
| bare libcurl multi, same GETs (floor) | $N | $f_rss KB | $f_per ms |

Memory: qrwatch-probe's peak is $mem_ratio of blackbox_exporter's. Most of it
is the floor: Debian's libcurl loads OpenSSL, nghttp2, libssh2, LDAP and
Kerberos libraries whose resident pages count; a router's libcurl (mbedTLS
or wolfSSL, few protocols) is a fraction of that.

First-byte timing error against the injected delay, 5 runs each:
qrwatch-probe's \`ttfb_us\`, blackbox_exporter's \`processing\` phase.

| injected delay | qrwatch-probe mean | largest | blackbox_exporter mean | largest |
|---|---|---|---|---|
$rows
## The cross-built probe

\`make cross ARCH=...\` (\`-Os\`, stripped, Debian's cross compilers against
a sysroot of the architecture's packages), one check of the same page run
under qemu-user. The peak RSS under qemu includes the emulator itself; the
same check natively on this machine peaks at $native_check KB.

| architecture | stripped size | peak RSS under qemu-user | verdict |
|---|---|---|---|
$cross
EOF2
# two sections: each replaces its own in docs/BENCHMARKS.md
. bench/section.sh
sed -n '/^## The cross-built probe$/,$p' "$TMP/bb.md" > "$TMP/cross.md"
sed '/^## The cross-built probe$/,$d' "$TMP/bb.md" > "$TMP/bb1.md"
put_section "$OUT" "$TMP/bb1.md"
put_section "$OUT" "$TMP/cross.md"

# --- the cost of a check with unchanged boards -------------------------------
# M targets on their own boards, each checked twice (a 30 s interval): the
# first round decodes every board, the second finds them unchanged but one,
# which is replaced by a code pointing elsewhere between the rounds and must
# be TAMPERED in the second round's check. The probe's CPU (its threads' from
# schedstat, its decoders' from /proc/PID/stat) is taken over the second
# round only; its peak RSS (VmHWM) and PSS at the end. The floor makes the
# same GETs on fresh connections, the name pinned alike, each at the moment
# the probe's second-round check of it started (read back from the spool),
# and, for reference, evenly paced and all at once.
M=400
echo "== the cost of a check: $M targets, two rounds"
mkdir -p "$TMP/boards"
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = x\n'
i=0
while [ $i -lt $M ]; do
    cp "$TMP/board.png" "$TMP/boards/t$i.png"
    printf '\n[target t%03d]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/boards/t$i.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\n'
    i=$((i + 1))
done
} > "$TMP/cost.catalog"
sed "s|^catalog = .*|catalog = $TMP/cost.catalog|; s|^spool_dir = .*|spool_dir = $TMP/spool-cost|" \
    "$TMP/probe.conf" > "$TMP/cost.conf"
"$O/qrwatch" encode -o "$TMP/fake.png" "http://portal.test.example/gia-mao" >/dev/null
# cpu_us PID: the CPU its threads have run, in microseconds (schedstat,
# nanoseconds), plus its reaped children's (the decoder) in clock ticks
hz=$(getconf CLK_TCK)
cpu_us() {
    cat /proc/$1/task/*/schedstat | awk -v c="$(awk '{ print $16 + $17 }' /proc/$1/stat)" \
        -v hz="$hz" '{ ns += $1 } END { printf "%.0f", ns / 1000 + c * 1000000 / hz }'
}
# threads_us PID: its threads' CPU alone, in microseconds
threads_us() { cat /proc/$1/task/*/schedstat | awk '{ ns += $1 } END { printf "%.0f", ns / 1000 }'; }
now_ms() { date +%s%3N; }
kept_n() { c=$(grep -c 'kept result' "$TMP/cost.log" 2>/dev/null || true); echo "${c:-0}"; }
# the floor with the libraries of the page check (libxml2, libunistring) loaded and used once
cc -O2 -std=c11 -D_DEFAULT_SOURCE -DFLOOR_PAGE -Wall -Wextra -Werror -o "$TMP/curl_floor_page" \
    bench/curl_floor.c $(pkg-config --cflags --libs libcurl libxml-2.0) -lunistring
# cost_run K: one probe run of two rounds and its floors; its figures into $TMP/runK.*
cost_run() {
    run=$1	# the body's "set --" takes the positional parameters
    rm -rf "$TMP/spool-cost"
    cp "$TMP/board.png" "$TMP/boards/t7.png"
    "$O/qrwatch-probe" run -c "$TMP/cost.conf" 2>"$TMP/cost.log" &
    CPID=$!
    i=0
    while [ "$(kept_n)" -lt $M ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    t1=$(cpu_us $CPID) w1=$(now_ms) h1=$(threads_us $CPID)
    cp "$TMP/fake.png" "$TMP/boards/t7.png"	# a new photo, before its second check
    i=0
    while [ "$(kept_n)" -lt $((M * 2)) ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    t2=$(cpu_us $CPID) w2=$(now_ms) h2=$(threads_us $CPID)
    q_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CPID/status")
    q_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$CPID/smaps_rollup")
    kill -TERM $CPID
    wait $CPID || true
    round2=$(( $(kept_n) - M ))
    spread=$((w2 - w1))
    q2_per=$(awk -v t="$((t2 - t1))" -v n="$round2" 'BEGIN { printf "%.3f", t / 1000 / n }')
    qt_per=$(awk -v t="$((h2 - h1))" -v n="$round2" 'BEGIN { printf "%.3f", t / 1000 / n }')
    q_dec_ms=$(( ((t2 - t1) - (h2 - h1)) / 1000 ))
    changed=$(grep 'kept result for t007' "$TMP/cost.log" | tail -n 1)
    decodes=$(grep -c 'kept result.*board read 1 times, unchanged 0 times' "$TMP/cost.log" || true)
    i=0; while [ $i -lt $M ]; do echo "http://portal.test:$P/slow/50"; i=$((i + 1)); done > "$TMP/urls2"
    # the same GETs at the moments the probe's second-round checks started:
    # the last M results' times in its spool, as offsets from the first
    "$O/tests/spooldump" "$TMP"/spool-cost/seg-* | awk '{ print $2 }' | sort | tail -n $M |
        python3 -c 'if True:
        import sys, datetime
        t = [datetime.datetime.fromisoformat(l.strip().replace("Z", "+00:00")).timestamp()
             for l in sys.stdin if l.strip()]
        for x in t:
            print("%s\t%.1f" % (sys.argv[1], (x - t[0]) * 1000))' "http://portal.test:$P/slow/50" > "$TMP/urls3"
    span=$(tail -n 1 "$TMP/urls3" | cut -f 2 | cut -d . -f 1)
    # floor NAME BINARY SPREAD-MS [URLS]: its "VmHWM PSS CPU-per-GET" into $TMP/NAME
    floor() {
        "$TMP/$2" $INFLIGHT "portal.test:$P:127.0.0.1" fresh "$3" < "$TMP/${4:-urls2}" > /dev/null 2> "$TMP/$1.err"
        awk -v n="$M" '{ printf "%s %s %.3f\n", $1, $2, $3 / 1000 / n }' "$TMP/$1.err" > "$TMP/$1"
    }
    echo "== the floor: the same $M GETs at the checks' moments (over $span ms), three runs; then paced, at once"
    floor same1 curl_floor 0 urls3
    floor same2 curl_floor 0 urls3
    floor same3 curl_floor_page 0 urls3
    floor paced curl_floor "$spread"
    floor burst curl_floor 0
    f2_per=$(cat "$TMP/same1" "$TMP/same2" "$TMP/same3" | awk '{ print $3 }' | sort -n | sed -n 2p)
    set -- $(cat "$TMP/same1"); f2_hwm=$1 f2_pss=$2
    set -- $(cat "$TMP/same3"); fp_hwm=$1 fp_pss=$2 fp_per=$3
    set -- $(cat "$TMP/paced"); fs_per=$3
    set -- $(cat "$TMP/burst"); fb_hwm=$1 fb_pss=$2 fb_per=$3
    ratio() { awk -v q="$1" -v f="$2" 'BEGIN { printf "%.2f", q / f }'; }
    cpu_ratio=$(ratio "$q2_per" "$f2_per") thr_ratio=$(ratio "$qt_per" "$f2_per")
    hwm_ratio=$(ratio "$q_hwm" "$f2_hwm") pss_ratio=$(ratio "$q_pss" "$f2_pss")
    hwmp_ratio=$(ratio "$q_hwm" "$fp_hwm") pssp_ratio=$(ratio "$q_pss" "$fp_pss")
    echo "second round: $round2 checks, $q2_per ms CPU/check, threads $qt_per, decoders $q_dec_ms ms (floor $f2_per, x$cpu_ratio, threads x$thr_ratio; paced $fs_per; at once $fb_per); VmHWM $q_hwm KB (floor $f2_hwm, x$hwm_ratio; with the page libraries $fp_hwm, x$hwmp_ratio), PSS $q_pss KB (floor $f2_pss, x$pss_ratio; $fp_pss, x$pssp_ratio)"
    echo "changed board: $changed"
    for v in q2_per qt_per q_dec_ms q_hwm q_pss f2_per f2_hwm f2_pss fp_hwm fp_pss fp_per fs_per \
        fb_hwm fb_pss fb_per span spread round2 decodes cpu_ratio thr_ratio hwm_ratio pss_ratio \
        hwmp_ratio pssp_ratio; do
        eval "printf '%s=%s\\n' $v \"\$$v\""
    done > "$TMP/run$run.vars"
    printf '%s\n' "$changed" > "$TMP/run$run.changed"
}
# three runs, since one machine's CPU speed drifts between them: the table
# shows the run whose ratio (threads only) is the median, and all three ratios
cost_run 1; cost_run 2; cost_run 3
med=$(for k in 1 2 3; do echo "$(sed -n 's/^thr_ratio=//p' "$TMP/run$k.vars") $k"; done | sort -n | sed -n 2p | cut -d' ' -f2)
all_thr=$(for k in 1 2 3; do sed -n 's/^thr_ratio=//p' "$TMP/run$k.vars"; done | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
all_cpu=$(for k in 1 2 3; do sed -n 's/^cpu_ratio=//p' "$TMP/run$k.vars"; done | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
. "$TMP/run$med.vars"
changed=$(cat "$TMP/run$med.changed")
echo "median run: $med; ratios, threads only: $all_thr; with decoders: $all_cpu"

cat > "$TMP/cost.md" <<EOF2
## The cost of a check

Three runs, each a new probe with $M targets on boards of their own, one
fixture page answered after 50 ms, at most $INFLIGHT checks in flight, each
target checked twice (a 30 s interval). The table is the run whose ratio
is the median (run $med); the three ratios to the floor were, its threads
only: $all_thr; with its decoders: $all_cpu. The first round decodes every board; the second finds
them unchanged, but for one replaced between the rounds by a code
pointing elsewhere. The probe's CPU is its threads' (\`/proc/PID/task/*/schedstat\`,
nanoseconds) and its decoders' (\`/proc/PID/stat\`, in clock ticks of
$((1000 / hz)) ms) over the second round only, shown apart and together;
memory is the probe process's peak RSS (VmHWM) and its PSS at the end of
the run (the decoder is a program of its own, started only for a changed
board).

The floor is a bare libcurl multi loop making the same $M GETs on fresh
connections, the name pinned as the probe's \`resolve\` pins it
(\`bench/curl_floor.c\`; its CPU is its loop's, from \`getrusage\`). Each
GET starts at the moment the probe's second-round check of that target
started (the results' times in its spool: over $span ms, as the interval's
jitter spread them), so both pay for the same overlap and the same
wake-ups; the median of three runs. For reference, the same GETs evenly
paced over the $spread ms from the end of the first round to the end of the
second, and all at once (one wake-up serves many, and the caches stay
warm). The third run at the checks' moments also loads and uses once the
libraries the probe's page check is built on (libxml2 and, through
Debian's libxml2, ICU and libstdc++; libunistring): the memory a probe
pays for reading pages at all, before any state of its own.

| | GETs or checks | CPU per check | peak RSS | PSS |
|---|---|---|---|---|
| \`qrwatch-probe run\`, second round, its threads and decoders | $round2 | $q2_per ms | $q_hwm KB | $q_pss KB |
| the same, its threads only (the decoders: $q_dec_ms ms in all) | $round2 | $qt_per ms | | |
| bare libcurl at the checks' moments (floor) | $M | $f2_per ms | $f2_hwm KB | $f2_pss KB |
| the floor with the page check's libraries | $M | $fp_per ms | $fp_hwm KB | $fp_pss KB |
| bare libcurl, evenly paced | $M | $fs_per ms | | |
| bare libcurl, all at once | $M | $fb_per ms | $fb_hwm KB | $fb_pss KB |
| ratio to the floor | | $cpu_ratio (threads only: $thr_ratio) | $hwm_ratio | $pss_ratio |
| ratio to the floor with the page libraries | | | $hwmp_ratio | $pssp_ratio |

First-round checks that decoded their board: $decodes of $M. The board
replaced between the rounds, in its second check: \`$(echo "$changed" | sed 's/.*kept result for //')\`.
EOF2
put_section "$OUT" "$TMP/cost.md"
