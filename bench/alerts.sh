#!/bin/sh
# bench/alerts.sh - how long from the result that crosses the threshold to
# the message accepted by the SMTP receiver (Debian's aiosmtpd on loopback,
# STARTTLS and login), against curl sending a mail of the same size to the
# same receiver as the floor. Appends to docs/BENCHMARKS.md.
# Usage: sh bench/alerts.sh BUILD-DIR
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
OUT=docs/BENCHMARKS.md
ROUNDS=20
PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT INT TERM
wait_file() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
mkdir -p "$TMP/tls"
"$O/tests/mkcert" "$TMP/tls" >/dev/null
$PY tests/fixture/smtpd.py --dir "$TMP/mail" --port-file "$TMP/smtp.port" \
    --tls "$TMP/tls/good.pem" "$TMP/tls/good.key" --login qr:mail-pw-1 2>"$TMP/smtpd.log" &
PIDS="$PIDS $!"
wait_file "$TMP/smtp.port"
SMTP=$(cat "$TMP/smtp.port")
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n\n[target t]\nboard = b\nprocedure = Đăng ký khai sinh\nkind = text\npayload = x\nimage = t.png\n' > "$TMP/c.catalog"
printf 'bench-secret-of-enough-length\n' > "$TMP/secret"
printf 'mail-pw-1\n' > "$TMP/pw"
cat > "$TMP/q.conf" <<CONF
listen = 127.0.0.1:0
data_dir = $TMP/data
catalog = $TMP/c.catalog
probe = p1 $TMP/secret
log_level = warn
smtp_url = smtp://127.0.0.1:$SMTP
smtp_from = qrwatch@huyen.example
smtp_user = qr
smtp_password_file = $TMP/pw
smtp_starttls = yes
smtp_ca_file = $TMP/tls/ca.pem
notify = it email it@huyen.example
CONF
"$O/qrwatchd" -c "$TMP/q.conf" -p "$TMP/port" 2>"$TMP/server.log" &
PIDS="$PIDS $!"
wait_file "$TMP/port"
URL="http://127.0.0.1:$(cat "$TMP/port")/api/v1/ingest"

T=$(($(date +%s) - 20000))
SEQ=0
RS=""
add() {
    T=$((T + 10))
    RS="$RS${RS:+,}"'{"target":"t","time":"'$(date -u -d "@$T" +%Y-%m-%dT%H:%M:%S.000Z)'","verdict":"'$1'","failed_step":1,"total_us":1000,"steps":[{"name":"a","status":503,"ttfb_us":500,"total_us":1000}]}'
}
push() {
    SEQ=$((SEQ + 1))
    printf '{"probe":"p1","seq":%s,"clock_ms":%s,"results":[%s]}' "$SEQ" \
        "$(($(date +%s) * 1000))" "$RS" > "$TMP/b.json"
    RS=""
    "$O/tests/sendbatch" "$URL" p1 bench-secret-of-enough-length "$TMP/b.json" >/dev/null
}
nmail() { find "$TMP/mail" -name '*.eml' | wc -l; }
wait_mail() {  # wait_mail COUNT
    i=0
    while [ "$(nmail)" -lt "$1" ] && [ $i -lt 3000 ]; do sleep 0.005; i=$((i + 1)); done
}
received_at() { sed -n 's/^X-Received-At: //p' "$TMP/mail/$(printf '%06d' "$1").eml" | tr -d '\r'; }

# ours: the third DOWN in a row is sent at t0; the "opened" mail is accepted at t1
n=0
: > "$TMP/ours"
r=0
while [ $r -lt $ROUNDS ]; do
    add DOWN; add DOWN; push
    add DOWN
    t0=$(date +%s.%N)
    push
    n=$((n + 1)); wait_mail $n
    echo "$(received_at $n) $t0" | awk '{ printf "%.1f\n", ($1 - $2) * 1000 }' >> "$TMP/ours"
    add OK; add OK; push
    n=$((n + 1)); wait_mail $n
    r=$((r + 1))
done
SIZE=$(wc -c < "$TMP/mail/000001.eml")

# the floor: curl sends a mail of the same size, STARTTLS and login, same receiver
head -c "$SIZE" "$TMP/mail/000001.eml" | sed '1,2d' > "$TMP/m.eml"
: > "$TMP/floor"
r=0
while [ $r -lt $ROUNDS ]; do
    t0=$(date +%s.%N)
    curl -s --ssl-reqd --cacert "$TMP/tls/ca.pem" "smtp://127.0.0.1:$SMTP" -u qr:mail-pw-1 \
        --mail-from qrwatch@huyen.example --mail-rcpt it@huyen.example -T "$TMP/m.eml"
    n=$((n + 1)); wait_mail $n
    echo "$(received_at $n) $t0" | awk '{ printf "%.1f\n", ($1 - $2) * 1000 }' >> "$TMP/floor"
    r=$((r + 1))
done

stats() {  # stats FILE -> "p50 max"
    sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f %.1f", v[int((NR + 1) / 2)], v[NR] }'
}
set -- $(stats "$TMP/ours")
O50=$1 OMAX=$2
set -- $(stats "$TMP/floor")
F50=$1 FMAX=$2
RATIO=$(awk -v a="$O50" -v b="$F50" 'BEGIN { printf "%.2f", a / b }')
{
echo
echo "## Alerts: from the threshold result to the accepted e-mail"
echo
echo "$ROUNDS incidents, one after another: the third DOWN result in a row is"
echo "sent to qrwatchd as a signed batch (t0); the time is when the local SMTP"
echo "receiver (aiosmtpd, STARTTLS and login) accepted the \"opened\" mail"
echo "(t1). The incident and its notification are committed with the batch, then"
echo "the outbox worker is woken and sends it. The floor is curl sending a mail"
echo "of the same size ($SIZE bytes) to the same receiver the same way,"
echo "started from the same shell."
echo
echo "| | p50 | max |"
echo "|---|---|---|"
echo "| qrwatchd: result in, mail accepted | $O50 ms | $OMAX ms |"
echo "| curl alone (floor) | $F50 ms | $FMAX ms |"
echo
echo "Ratio at p50: $RATIO× the floor."
} >> "$OUT"
echo "alerts: p50 $O50 ms (floor $F50 ms, ratio $RATIO)"
