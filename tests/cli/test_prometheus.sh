#!/bin/sh
# test_prometheus.sh - the national view (docs/deploy.md, "National
# monitoring through Prometheus"): three qrwatchd, three provinces, on
# loopback, fed signed batches with STALE codes; promtool checks each
# /metrics and the shipped configuration and rules; then Debian's
# Prometheus scrapes the three with that configuration and those rules,
# and its HTTP query API must show every province's STALE codes, the
# recording rules' values, a verdict change that starts no new series,
# and the alerts for STALE codes and for a province gone silent.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
SHIPPED="$(cd "$(dirname "$0")/../.." && pwd)/dashboard/prometheus"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    fail "prometheus and promtool are installed" "Debian's package prometheus (.ci/deps installs it)"
    finish
    exit
fi

# ---- the shipped files, as they are ----
expect_run "promtool check config on the shipped prometheus.yml" 0 promtool check config "$SHIPPED/prometheus.yml"
expect_contains "it finds both rule files" "$OUT" "SUCCESS: 2 rule files found"
expect_run "promtool check rules on the shipped rules" 0 promtool check rules "$SHIPPED/qrwatch-rules.yml" "$SHIPPED/qrwatch-alerts.yml"
expect_eq "the list names the 34 provinces" "$(grep -c '^  labels: {province: ' "$SHIPPED/qrwatch-provinces.yml")" "34"

# ---- three provinces ----
PW=mat-khau-cua-prometheus
USER_LINE=$(printf '%s\n' "$PW" | "$SERVER" --hash-password prometheus)
# catalog NAME PROVINCE then "PLACE|COMMUNE" lines, then "TARGET|PLACE|PROCEDURE" lines
catalog() {
    d="$TMP/$1"
    mkdir -p "$d"
    {
    shift
    prov=$1
    shift
    for x in "$@"; do
        case "$x" in
        *\|*\|*) IFS='|' read -r t p proc <<EOF
$x
EOF
            printf '[target %s]\nboard = b-%s\nprocedure = %s\nimage = x.png\nofficial_domains = dichvucong.gov.vn\n\n' "$t" "$p" "$proc" ;;
        *) IFS='|' read -r p commune <<EOF
$x
EOF
            printf '[place %s]\nprovince = %s\ncommune = %s\n\n[board b-%s]\nplace = %s\nlocation = Nhà văn hoá\n\n' "$p" "$prov" "$commune" "$p" "$p" ;;
        esac
    done
    } > "$d/c.catalog"
}
# server NAME PROVINCE-KEY PROBE...: its qrwatchd.conf, then start it; sets P_NAME
server() {
    n=$1 pk=$2
    shift 2
    d="$TMP/$n"
    {
    printf 'listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\n' "$d" "$d"
    printf 'rrdcached = off\nlog_level = warn\n%s\n' "$USER_LINE"
    [ -n "$pk" ] && printf 'province = %s\n' "$pk"
    for p in "$@"; do
        printf 'secret-of-%s-0123456789\n' "$p" > "$d/$p.secret"
        printf 'probe = %s %s/%s.secret\n' "$p" "$d" "$p"
    done
    } > "$d/qrwatchd.conf"
    "$SERVER" -c "$d/qrwatchd.conf" -p "$d/port" 2>"$d/server.log" &
    eval "PID_$n=$!"
    PIDS="$PIDS $!"
    wait_file "$d/port"
    eval "P_$n=$(cat "$d/port")"
}
catalog bn "Tỉnh Bắc Ninh" 'dong|Phường "Đông" Hoà' 'tan-an|Xã Tân An' \
    'a1|dong|Đăng ký khai sinh' 'a2|dong|Đăng ký khai sinh' 'a3|tan-an|Chứng thực' \
    'a4|tan-an|Đăng ký khai sinh'
catalog hn "Thành phố Hà Nội" 'ba-dinh|Phường Ba Đình' \
    'b1|ba-dinh|Đăng ký khai sinh' 'b2|ba-dinh|Đăng ký kết hôn' 'b3|ba-dinh|Đăng ký kết hôn'
catalog hue "Thành phố Huế" 'thuan-hoa|Phường Thuận Hoá' \
    'c1|thuan-hoa|Đăng ký khai sinh' 'c2|thuan-hoa|Chứng thực' 'c3|thuan-hoa|Chứng thực'
# Bắc Ninh and Hà Nội name their province in qrwatchd.conf; Huế leaves it to the catalog
server bn bac-ninh bn-p1 bn-p2
server hn ha-noi hn-p1
server hue "" hue-p1

res() {  # res TARGET VERDICT: one result, stamped now
    st=200
    case $2 in STALE) st=404 ;; DOWN) st=503 ;; esac
    printf '{"target":"%s","time":"%s","verdict":"%s","why_vi":"x","why_en":"x","payload":"","failed_step":0,"total_us":1234000,"steps":[{"name":"Trang thủ tục","status":%s,"dns_us":1000,"connect_us":2000,"tls_us":0,"ttfb_us":300000,"transfer_us":4000,"total_us":1234000}]}' \
        "$1" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$2" "$st"
}
push() {  # push PORT PROBE SEQ RESULT...: one signed batch, which must be acknowledged
    port=$1 probe=$2 seq=$3
    shift 3
    printf '{"probe":"%s","seq":%s,"clock_ms":%s,"uplink":"4g","version":"t","results":[%s]}' \
        "$probe" "$seq" "$(($(date +%s) * 1000))" "$(IFS=,; echo "$*")" > "$TMP/batch.json"
    got=$("$SEND" "http://127.0.0.1:$port/api/v1/ingest" "$probe" "secret-of-$probe-0123456789" "$TMP/batch.json")
    expect_contains "batch $seq from $probe acknowledged" "$got" "200 {\"ack\":$seq,"
}
# Bắc Ninh: a1 OK, a2 STALE (from one of its two probes), a3 SLOW, a4 DOWN
push "$P_bn" bn-p1 1 "$(res a1 OK)" "$(res a2 STALE)" "$(res a3 SLOW)" "$(res a4 DOWN)"
push "$P_bn" bn-p2 1 "$(res a1 OK)" "$(res a2 OK)"
# Hà Nội: b1 and b2 STALE, b3 OK; Huế: c1 STALE, c2 OK, c3 not checked yet
push "$P_hn" hn-p1 1 "$(res b1 STALE)" "$(res b2 STALE)" "$(res b3 OK)"
push "$P_hue" hue-p1 1 "$(res c1 STALE)" "$(res c2 OK)"

# stop NAME PID: SIGTERM, and the exit status 0 within 30 s (else kill -9, a failure)
stop() {
    kill "$2"
    i=0
    while kill -0 "$2" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$2" 2>/dev/null
    wait "$2"
    expect_eq "$1 stops cleanly" "$?" "0"
}
metrics() { curl -s --noproxy '*' -u "prometheus:$PW" "http://127.0.0.1:$1/metrics"; }
for n in bn hn hue; do
    eval "port=\$P_$n"
    metrics "$port" > "$TMP/$n.metrics"
    promtool check metrics < "$TMP/$n.metrics" > "$TMP/lint" 2>&1
    expect_eq "$n: promtool check metrics finds nothing wrong" "$?:$(cat "$TMP/lint")" "0:"
done
expect_contains "place names escaped as the format says" "$(cat "$TMP/bn.metrics")" \
    'qrwatch_target_verdict{province="bac-ninh",commune="Phường \"Đông\" Hoà",procedure="Đăng ký khai sinh",probe="bn-p1",target="a2"} 5'
expect_contains "without 'province =' the catalog's province" "$(cat "$TMP/hue.metrics")" \
    'qrwatch_codes{province="Thành phố Huế",commune="Phường Thuận Hoá",procedure="Chứng thực",verdict="UNCHECKED"} 1'
expect_eq "no verdict label on the per-code series" "$(grep -c '^qrwatch_target_[a-z]*{.*verdict=' "$TMP/bn.metrics")" "0"
expect_eq "every family has HELP and TYPE" \
    "$(awk '/^# HELP/ { h[$3] = 1 } /^# TYPE/ { t[$3] = 1 } /^[a-z]/ { sub(/[{ ].*/, ""); f[$0] = 1 } END { for (x in f) if (!h[x] || !t[x]) print x }' "$TMP/bn.metrics")" ""
expect_eq "counters end in _total" \
    "$(awk '/^# TYPE .* counter$/ && $3 !~ /_total$/ { print $3 }' "$TMP/bn.metrics")" ""
for f in qrwatch_ingest_answers_total qrwatch_http_connections_cut_total qrwatch_login_rate_limited_total \
         qrwatch_wal_checkpoints_total qrwatch_rrd_updates_total qrwatch_probe_last_batch_timestamp_seconds; do
    expect_contains "health series $f" "$(cat "$TMP/bn.metrics")" "# TYPE $f "
done
expect_contains "the batches were counted" "$(cat "$TMP/bn.metrics")" 'qrwatch_ingest_answers_total{province="bac-ninh",code="200"} 2'
series() { awk '$1 ~ /^qrwatch_metrics_series/ { print $2 }' "$1"; }
expect_eq "the series count is the number of samples" "$(series "$TMP/bn.metrics")" "$(grep -vc '^#' "$TMP/bn.metrics")"
# gzipped for a scraper that asks (Prometheus does), the same text inside
curl -s --noproxy '*' -u "prometheus:$PW" -H 'Accept-Encoding: gzip' -D "$TMP/gz.head" \
    -o "$TMP/bn.metrics.gz" "http://127.0.0.1:$P_bn/metrics"
expect_contains "asked for gzip: Content-Encoding gzip" "$(tr -d '\r' < "$TMP/gz.head")" "Content-Encoding: gzip"
expect_contains "and Vary: Accept-Encoding" "$(tr -d '\r' < "$TMP/gz.head")" "Vary: Accept-Encoding"
codes() { grep -E '^qrwatch_(target_|codes)' "$1"; }
gunzip -c < "$TMP/bn.metrics.gz" > "$TMP/gz.txt"
expect_eq "the same codes inside as in the plain text" "$(codes "$TMP/gz.txt" | md5sum)" "$(codes "$TMP/bn.metrics" | md5sum)"
expect_eq "and not none" "$(codes "$TMP/gz.txt" | wc -l | awk '$1 > 10 { print "many" }')" "many"
echo "     gzip: $(wc -c < "$TMP/bn.metrics.gz") bytes for $(wc -c < "$TMP/bn.metrics")"
expect_eq "a fifth of the size or less" "$(( $(wc -c < "$TMP/bn.metrics.gz") * 5 <= $(wc -c < "$TMP/bn.metrics") ))" "1"
expect_eq "/metrics needs the login like every page" \
    "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_bn/metrics")" "401"

# ---- the national Prometheus: the shipped files, on loopback, once a second ----
N="$TMP/national"
mkdir -p "$N"
printf '%s\n' "$PW" > "$N/qrwatch.password"
cp "$SHIPPED/qrwatch-rules.yml" "$SHIPPED/qrwatch-alerts.yml" "$N/"
sed -e 's/^  scrape_interval: 1m/  scrape_interval: 1s/' -e 's/^  scrape_timeout: 30s/  scrape_timeout: 1s/' \
    -e 's/^  evaluation_interval: 1m/  evaluation_interval: 1s/' -e 's/^    scheme: https/    scheme: http/' \
    -e "s|password_file: /etc/prometheus/qrwatch.password|password_file: $N/qrwatch.password|" \
    "$SHIPPED/prometheus.yml" > "$N/prometheus.yml"
cat > "$N/qrwatch-provinces.yml" <<EOF
- targets: ['127.0.0.1:$P_bn']
  labels: {province: bac-ninh}
- targets: ['127.0.0.1:$P_hn']
  labels: {province: ha-noi}
- targets: ['127.0.0.1:$P_hue']
  labels: {province: "Thành phố Huế"}
EOF
expect_eq "the test changed only what it must" "$(diff "$SHIPPED/prometheus.yml" "$N/prometheus.yml" | grep -c '^>')" "5"
expect_run "promtool check config on the test's copy" 0 promtool check config "$N/prometheus.yml"
PP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus --config.file="$N/prometheus.yml" --storage.tsdb.path="$N/data" \
    --web.listen-address="127.0.0.1:$PP" --log.level=warn > "$N/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS="$PIDS $PROM_PID"
i=0
while [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PP/-/ready")" != 200 ] && [ $i -lt 200 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "Prometheus is ready on 127.0.0.1" "$(curl -s --noproxy '*' "http://127.0.0.1:$PP/-/ready" | cut -c1-24)" "Prometheus Server is Rea"

# q EXPR [LABEL...]: the instant query's series as "LABEL|LABEL VALUE", sorted, one line
cat > "$TMP/q.py" <<'EOF'
import json, sys, urllib.parse, urllib.request
port, expr, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
url = "http://127.0.0.1:%s/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
try:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    d = json.load(opener.open(url, timeout=5))
except Exception as e:
    print("error: %s" % e)
    sys.exit(0)
rows = []
for r in d["data"]["result"]:
    v = "%g" % round(float(r["value"][1]), 3)
    rows.append("|".join(r["metric"].get(l, "") for l in labels) + (" " if labels else "") + v)
print(", ".join(sorted(rows, key=str.casefold)))
EOF
q() { python3 "$TMP/q.py" "$PP" "$@"; }
# wait_q NAME WANT EXPR [LABEL...]: until the query answers WANT, 20 s at most
wait_q() {
    name=$1 want=$2
    shift 2
    until=$(($(date +%s) + 20))
    while got=$(q "$@"); [ "$got" != "$want" ] && [ "$(date +%s)" -lt $until ]; do sleep 0.2; done
    expect_eq "$name" "$got" "$want"
}
wait_q "every province is scraped" "bac-ninh 1, ha-noi 1, Thành phố Huế 1" 'up{job="qrwatch"}' province
wait_q "a national query sees every province's STALE codes" \
    "bac-ninh|a2|bn-p1 5, ha-noi|b1|hn-p1 5, ha-noi|b2|hn-p1 5, Thành phố Huế|c1|hue-p1 5" \
    'qrwatch_target_verdict == 5' province target probe
expect_eq "the country keeps every code's verdict" "$(q 'count(qrwatch_target_verdict)')" "11"
expect_eq "but not each code's latency and 0/1 (metric_relabel_configs)" \
    "$(q 'count({__name__=~"qrwatch_target_ok|qrwatch_check_seconds"})')" ""
wait_q "STALE codes per province (recording rule)" "bac-ninh 1, ha-noi 2, Thành phố Huế 1" \
    'province:qrwatch_stale_codes:sum' province
wait_q "availability per province (recording rule)" "bac-ninh 0.5, ha-noi 0.333, Thành phố Huế 0.5" \
    'province:qrwatch_availability:ratio' province
wait_q "availability per province and procedure (recording rule)" \
    "bac-ninh|Chứng thực 1, bac-ninh|Đăng ký khai sinh 0.333, ha-noi|Đăng ký khai sinh 0, ha-noi|Đăng ký kết hôn 0.5, Thành phố Huế|Chứng thực 1, Thành phố Huế|Đăng ký khai sinh 0" \
    'province_procedure:qrwatch_availability:ratio' province procedure
wait_q "availability per procedure, the country (recording rule)" \
    "Chứng thực 1, Đăng ký khai sinh 0.2, Đăng ký kết hôn 0.5" 'procedure:qrwatch_availability:ratio' procedure
wait_q "a commune name with quotes arrives whole" "1" \
    'sum(qrwatch_codes{commune="Phường \"Đông\" Hoà",verdict="STALE"})'
wait_q "the STALE alert is raised for every province" \
    "bac-ninh|pending 1, ha-noi|pending 1, Thành phố Huế|pending 1" \
    'ALERTS{alertname="QrwatchProvinceStaleCodes"}' province alertstate
wait_q "every province's results are fresh (its server's own series, labelled by the scrape where it names no province)" \
    "bac-ninh 1, ha-noi 1, Thành phố Huế 1" 'count by (province) (time() - qrwatch_last_batch_timestamp_seconds < 300)' province
expect_eq "so no province is without results" "$(q 'ALERTS{alertname="QrwatchProvinceNoResults"}')" ""

# a verdict change moves a value and starts no series
before=$(series "$TMP/bn.metrics")
push "$P_bn" bn-p1 2 "$(res a4 HANG)"
metrics "$P_bn" > "$TMP/bn2.metrics"
expect_eq "after a verdict change, the same number of series" "$(series "$TMP/bn2.metrics")" "$before"
wait_q "Prometheus sees the new verdict" "4" 'qrwatch_target_verdict{target="a4"}'
expect_eq "and the code has one series still" "$(q 'count(count_over_time(qrwatch_target_verdict{target="a4"}[10m]))')" "1"

# a province gone silent: its server stops
stop "Hà Nội's server" "$PID_hn"
wait_q "the national server sees Hà Nội down" "ha-noi 0" 'up{job="qrwatch"} == 0' province
wait_q "and raises the province-down alert for it alone" "ha-noi|pending 1" \
    'ALERTS{alertname="QrwatchProvinceDown"}' province alertstate

stop "Prometheus" "$PROM_PID"
expect_eq "Prometheus logged no error" "$(grep -c 'level=error' "$N/prometheus.log")" "0"
stop "Bắc Ninh's server" "$PID_bn"
stop "Huế's server" "$PID_hue"
finish
