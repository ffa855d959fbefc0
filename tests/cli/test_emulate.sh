#!/bin/sh
# test_emulate.sh - an emulated 3G uplink costs what a real one does: a
# round trip for each TCP handshake, each TLS handshake and each
# request/response exchange (issue 13, item 10). A four-step flow against
# Debian's httpbin (plain HTTP) and nginx (HTTPS) runs first behind the
# kernel's netem (prober/qrwatch-netem: a network namespace the test makes),
# then with the probe's in-process emulation (--emulate), which runs always
# so that the fallback is covered too. Where netem cannot be used (not root,
# no tc, no namespaces, no sch_netem) the test says so on one SKIP line.
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROBE="$QRW_BUILD/qrwatch-probe"
NETEM="$ROOT/prober/qrwatch-netem"
PROFILE=3g
NET=10.213.0.4		# the test's /30: the host side .5, the namespace .6
HOST_ADDR=10.213.0.5
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM

for tool in gunicorn nginx python3 curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool is installed (.ci/deps installs it)" "not found"
        finish; exit 1
    fi
done
RTT=$("$PROBE" emulate "$PROFILE" | cut -d' ' -f2)
case "$RTT" in
    ''|*[!0-9]*) fail "qrwatch-probe emulate $PROFILE gives the round trip" "got '$RTT'"; finish; exit 1 ;;
esac

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
H=$(free_port)
N=$(free_port)		# nginx, TLS 1.3
N2=$(free_port)		# nginx, TLS 1.2 only
mkdir -p "$TMP/certs"
"$QRW_BUILD/tests/mkcert" "$TMP/certs" || { fail "test certificates made" "mkcert failed"; finish; exit 1; }

# a four-step flow on one site: GET, GET, POST a form, GET
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n' > "$TMP/c.catalog"
printf '[board b]\nplace = p\nlocation = Nhà văn hoá thôn Đông\n' >> "$TMP/c.catalog"
# target ID URL FLOW
target() {
    "$QRW_BUILD/qrwatch" encode -o "$TMP/$1.png" "$2" >/dev/null
    printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$1" "$TMP/$1.png"
    printf 'official_domains = httpbin.test portal.test\nallow_private = 127.0.0.1 %s/30\n' "$NET"
    printf 'extra_ca = %s\nflow = %s\n' "$TMP/certs/ca.pem" "$3"
} >> "$TMP/c.catalog"
target plain "http://httpbin.test:$H/get?buoc=1" four
target tls "https://portal.test:$N/a" four
target tls12 "https://portal.test:$N2/a" four
cat >> "$TMP/c.catalog" <<'CAT'

[flow four]
name = Bốn bước

[step]
name = Mở trang
url = {payload}

[step]
name = Xem hướng dẫn
url = /get?buoc=2

[step]
name = Gửi tờ khai
method = POST
url = /post
form = ho_ten=Nguyễn Văn A

[step]
name = Xem kết quả
url = /get?buoc=4
CAT

# check ADDRESS NAME [ARGS...]: the flow NAME (plain, tls, tls12) against the
# servers at ADDRESS, as JSON in $TMP/NAME-<tag>.json (tag = $TAG)
check() {
    addr=$1 name=$2
    shift 2
    "$PROBE" check --json -c "$TMP/c.catalog" \
        --resolve "httpbin.test:$H:$addr" --resolve "portal.test:$N:$addr" \
        --resolve "portal.test:$N2:$addr" "$@" "$name" \
        > "$TMP/$name-$TAG.json" 2> "$TMP/$name-$TAG.err"
}

# judge NAME TAG WHAT TLS [BARE]: a flow's result against the round trips it
# must have paid: each new connection one for TCP and TLS of them for its
# TLS handshake (TLS 1.3 one, TLS 1.2 two), each request (and redirect)
# one; each phase at least its own; the whole flow at least their sum, and
# given the unshaped flow's BARE ms, at most that and 100 ms more (a round
# trip paid twice would be 200 ms more)
cat > "$TMP/judge.py" <<'PY'
import json, sys
path, rtt_ms, what, tls_trips, bare = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                                       int(sys.argv[4]), sys.argv[5])
rtt = rtt_ms * 1000
slack = rtt * 3 // 100          # timer and scheduling granularity
def say(ok, msg, detail=""):
    print(("PASS|" if ok else "FAIL|") + msg + ("|" + detail if detail else ""))
try:
    r = json.load(open(path))
except Exception as e:
    say(False, what + ": a result", str(e))
    sys.exit(0)
steps = r["steps"]
say(r["verdict"] == "OK" and len(steps) == 4, what + ": the four steps pass",
    "verdict %s, %d steps: %s" % (r["verdict"], len(steps), r["why_en"]))
if len(steps) != 4:
    sys.exit(0)
say(not steps[0]["reused"] and all(s["reused"] for s in steps[1:]),
    what + ": one connection, reused by steps 2 to 4",
    "reused: %s" % [s["reused"] for s in steps])
https = steps[0]["url"].startswith("https:")
trips = 0
short = []
for i, s in enumerate(steps, 1):
    trips += 1 + s["redirects"]
    if s["ttfb_us"] < rtt - slack:
        short.append("step %d waited %d us" % (i, s["ttfb_us"]))
    if not s["reused"]:
        trips += 1 + (tls_trips if https else 0)
        if s["connect_us"] < rtt - slack:
            short.append("step %d connected in %d us" % (i, s["connect_us"]))
        if https and s["tls_us"] < tls_trips * rtt - slack:
            short.append("step %d shook hands (TLS) in %d us" % (i, s["tls_us"]))
say(not short, what + ": a round trip (%d ms) for connect and for each step's wait%s"
    % (rtt_ms, ", %s for the TLS handshake" % ["", "one", "two"][tls_trips] if https else ""),
    "; ".join(short))
total = r["total_us"]
ms = lambda us: us // 1000
say(total >= trips * rtt - slack,
    what + ": the flow took %d ms, at least %d round trips x %d ms%s"
    % (ms(total), trips, rtt_ms, " (unshaped: %s ms)" % bare if bare != "-" else ""),
    "took %d us, less than %d round trips" % (total, trips))
if bare != "-":
    over = int(bare) + 100
    say(total <= trips * rtt + over * 1000,
        what + ": and no round trip paid twice (at most %d ms over)" % over,
        "took %d us, %d round trips are %d us" % (total, trips, trips * rtt))
PY
judge() {
    python3 "$TMP/judge.py" "$TMP/$1-$2.json" "$RTT" "$3" "$4" "${5:--}" > "$TMP/judged"
    while IFS='|' read -r verdict msg detail; do
        if [ "$verdict" = PASS ]; then pass "$msg"; else fail "$msg" "$detail" \
            "$(cat "$TMP/$1-$2.err" 2>/dev/null)"; fi
    done < "$TMP/judged"
}
total_ms() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total_us"] // 1000)' "$1"; }

# --- netem: try it for real. Inside the namespace: say it is up, wait for
# the servers on the host side of the veth, then check from there ------------
cat > "$TMP/inside.sh" <<EOF
: > "$TMP/ns.ready"
i=0
while [ ! -e "$TMP/ns.go" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
for dev in \$(ls /sys/class/net); do tc qdisc show dev "\$dev"; done > "$TMP/ns.qdisc"
for n in plain tls tls12; do
    "$PROBE" check --json -c "$TMP/c.catalog" --resolve "httpbin.test:$H:$HOST_ADDR" \\
        --resolve "portal.test:$N:$HOST_ADDR" --resolve "portal.test:$N2:$HOST_ADDR" \\
        "\$n" > "$TMP/\$n-netem.json" 2> "$TMP/\$n-netem.err"
done
# the bandwidth: 60 kB at 1 Mbit/s take 480 ms
"$PROBE" check --json --allow-private "$NET/30" "http://$HOST_ADDR:$H/bytes/60000" \\
    > "$TMP/bytes-netem.json"
EOF
netem=0
"$NETEM" --probe "$PROBE" --net "$NET" "$PROFILE" sh "$TMP/inside.sh" \
    > "$TMP/netem.out" 2> "$TMP/netem.err" &
NPID=$!
PIDS="$PIDS $NPID"
i=0
while [ ! -e "$TMP/ns.ready" ] && kill -0 "$NPID" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
if [ -e "$TMP/ns.ready" ]; then
    netem=1
else
    kill "$NPID" 2>/dev/null
    wait "$NPID" 2>/dev/null
    why=$(sed -n '$s/^qrwatch-netem: //p' "$TMP/netem.err")
    echo "SKIP netem: ${why:-qrwatch-netem did not start}; testing the in-process emulation only"
fi

# --- the servers: httpbin under gunicorn (threads keep connections alive)
# and nginx, on loopback and, with netem, on the host side of the veth -------
ADDRS=127.0.0.1
[ "$netem" = 1 ] && ADDRS="127.0.0.1 $HOST_ADDR"
binds=""
for a in $ADDRS; do binds="$binds -b $a:$H"; done
# shellcheck disable=SC2086
gunicorn -w 1 -k gthread --threads 4 --keep-alive 30 $binds httpbin:app >"$TMP/httpbin.log" 2>&1 &
PIDS="$PIDS $!"
G=$TMP/nginx
mkdir -p "$G/logs" "$G/tmp"
{
    [ "$(id -u)" -eq 0 ] && printf 'user root;\n'
    printf 'worker_processes 1;\nerror_log %s/logs/error.log;\npid %s/nginx.pid;\n' "$G" "$G"
    printf 'events { worker_connections 64; }\nhttp {\n access_log off;\n'
    for d in client_body proxy fastcgi uwsgi scgi; do printf ' %s_temp_path %s/tmp;\n' "$d" "$G"; done
    printf ' default_type "text/html; charset=utf-8";\n keepalive_timeout 30;\n'
    for v in 1.3 1.2; do
    printf ' server {\n  ssl_protocols TLSv%s;\n' "$v"
    for a in $ADDRS; do printf '  listen %s:%s ssl;\n' "$a" "$([ $v = 1.3 ] && echo "$N" || echo "$N2")"; done
    printf '  server_name portal.test;\n'
    printf '  ssl_certificate %s/certs/good.pem;\n  ssl_certificate_key %s/certs/good.key;\n' "$TMP" "$TMP"
    printf '  location = / { return 200 "<html><head><title>Cổng Dịch vụ công</title></head><body>Trang chủ: tin tức, tra cứu, hỗ trợ</body></html>"; }\n'
    printf '  location / { return 200 "<html><head><title>Thủ tục</title></head><body>Đăng ký khai sinh: tờ khai</body></html>"; }\n }\n'
    done
    printf '}\n'
} > "$G/nginx.conf"
nginx -p "$G" -c "$G/nginx.conf" -g 'daemon off;' 2>"$G/start.log" &
PIDS="$PIDS $!"
i=0
while [ $i -lt 100 ] && ! { curl -fs "http://127.0.0.1:$H/get" >/dev/null 2>&1 &&
        curl -fs --cacert "$TMP/certs/ca.pem" --resolve "portal.test:$N:127.0.0.1" \
            "https://portal.test:$N/a" >/dev/null 2>&1; }; do
    sleep 0.1; i=$((i + 1))
done
if [ $i -ge 100 ]; then
    fail "httpbin and nginx start" "$(tail -3 "$TMP/httpbin.log")" "$(cat "$G/start.log")"
    finish; exit 1
fi

# --- behind netem, the probe inside the namespace ----------------------------
if [ "$netem" = 1 ]; then
    : > "$TMP/ns.go"
    wait "$NPID"
    rc=$?
    expect_eq "qrwatch-netem ran the checks in its namespace (exit status)" "$rc" 0
    q=$(cat "$TMP/ns.qdisc" 2>/dev/null)
    expect_contains "the namespace's side is shaped by netem: half the round trip" "$q" "delay $((RTT / 2))"
    expect_contains "and the loss" "$q" "loss 1%"
    expect_contains "and the bandwidth" "$q" "rate 1Mbit"
    judge plain netem "netem $PROFILE, httpbin" 0
    judge tls netem "netem $PROFILE, nginx over TLS 1.3" 1
    judge tls12 netem "netem $PROFILE, nginx over TLS 1.2" 2
    x=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["steps"][0]["transfer_us"])' \
        "$TMP/bytes-netem.json" 2>/dev/null)
    if [ "${x:-0}" -ge 400000 ]; then
        pass "netem $PROFILE caps the bandwidth (60 kB in $((x / 1000)) ms)"
    else
        fail "netem $PROFILE caps the bandwidth" "60 kB came in ${x:-?} us, expected about 480000"
    fi
    ip netns list 2>/dev/null | grep -q "qrwatch-netem-$NPID" &&
        fail "qrwatch-netem removed its namespace" "qrwatch-netem-$NPID is still there"
    ip link show "qrwn$NPID" >/dev/null 2>&1 &&
        fail "qrwatch-netem removed its veth pair" "qrwn$NPID is still there"
fi

# --- in-process, on loopback: unshaped, then --emulate ------------------------
TAG=bare check 127.0.0.1 plain
TAG=bare check 127.0.0.1 tls
TAG=bare check 127.0.0.1 tls12
for n in plain tls tls12; do TAG=inproc check 127.0.0.1 $n --emulate "$PROFILE"; done
judge plain inproc "in-process $PROFILE, httpbin" 0 "$(total_ms "$TMP/plain-bare.json")"
judge tls inproc "in-process $PROFILE, nginx over TLS 1.3" 1 "$(total_ms "$TMP/tls-bare.json")"
judge tls12 inproc "in-process $PROFILE, nginx over TLS 1.2" 2 "$(total_ms "$TMP/tls12-bare.json")"

finish
