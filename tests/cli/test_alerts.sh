#!/bin/sh
# test_alerts.sh - incidents and notifications end to end: qrwatchd with a
# real SMTP receiver (Debian's aiosmtpd, STARTTLS and login) and webhook
# receivers in the fixture portal, fed signed batches. Shows: open after N,
# resolve after M, flapping suppressed, verdict changes, uplink and service
# correlation, silent probes, reminders, the digest, Vietnamese and English
# texts with their details, routing by place and severity, undeliverable
# notifications on the dashboard, and exactly-once delivery across an SMTP
# outage and a kill -9.
. "$(dirname "$0")/lib.sh"
SERVER="$QRW_BUILD/qrwatchd"
SEND="$QRW_BUILD/tests/sendbatch"
PY=/usr/bin/python3		# Debian's, which has aiosmtpd
FIX="$(dirname "$0")/../fixture"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM
wait_file() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
DATA="$TMP/data"
db() { sqlite3 "$DATA/qrwatch.db" "$1"; }

if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
    fail "python3-aiosmtpd is installed" "run .ci/deps (make test does)"
    finish
    exit 1
fi
mkdir -p "$TMP/tls"
"$QRW_BUILD/tests/mkcert" "$TMP/tls" >/dev/null
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" -l "$TMP/hook.log" >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/portal.port"
H="http://127.0.0.1:$(cat "$TMP/portal.port")"
touch "$TMP/hook.log"

SMTPPID=""
start_smtp() {  # [PORT]
    rm -f "$TMP/smtp.port"
    $PY "$FIX/smtpd.py" --dir "$TMP/mail" --port-file "$TMP/smtp.port" ${1:+--port "$1"} \
        --tls "$TMP/tls/good.pem" "$TMP/tls/good.key" --login qr:mail-pw-1 >>"$TMP/smtpd.log" 2>&1 &
    SMTPPID=$!
    PIDS="$PIDS $SMTPPID"
    wait_file "$TMP/smtp.port"
}
start_smtp
SMTP=$(cat "$TMP/smtp.port")

# the catalog: four codes in Thôn Đông (Xã Tân An), one in Xã Hoà Bình
{
printf '[place xa-tan-an]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n'
printf '[place thon-dong]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\nvillage = Thôn Đông\n\n'
printf '[place xa-hoa-binh]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Hoà Bình\n\n'
printf '[board b-dong]\nplace = thon-dong\nlocation = Nhà văn hoá thôn Đông, bảng tin ngoài hiên\n\n'
printf '[board b-hb]\nplace = xa-hoa-binh\nlocation = UBND xã Hoà Bình, bảng bên phải\n'
n=0
for p in "t1 b-dong Đăng ký khai sinh" "t2 b-dong Đăng ký khai tử" \
         "t3 b-dong Cấp bản sao trích lục hộ tịch" "t4 b-dong Đăng ký kết hôn" \
         "t5 b-hb Chứng thực bản sao"; do
    set -- $p
    id=$1 board=$2
    shift 2
    n=$((n + 1))
    printf '\n[target %s]\nboard = %s\nprocedure = %s\nkind = text\npayload = code-%s\n' \
        "$id" "$board" "$*" "$id"
    printf 'image = %s.png\n' "$id"
done
} > "$TMP/c.catalog"
for p in p1 p2 p3; do printf 'secret-of-%s-0123456789\n' "$p" > "$TMP/$p.secret"; done
printf 'mail-pw-1\n' > "$TMP/smtp.pw"
conf() {  # conf FILE DATA-DIR EXTRA-LINES
    cat > "$1" <<CONF
listen = 127.0.0.1:0
data_dir = $2
catalog = $TMP/c.catalog
probe = p1 $TMP/p1.secret
probe = p2 $TMP/p2.secret
probe = p3 $TMP/p3.secret
public_url = https://qrwatch.huyen.example/
smtp_url = smtp://127.0.0.1:$SMTP
smtp_from = qrwatch@huyen.example
smtp_user = qr
smtp_password_file = $TMP/smtp.pw
smtp_starttls = yes
smtp_ca_file = $TMP/tls/ca.pem
alert_retry_min = 1s
alert_retry_max = 2s
notify = it email it@huyen.example
notify = tanan email vanphong@tanan.example place=xa-tan-an
notify = chutich email chutich@tanan.example place=xa-tan-an severity=urgent
notify = hoabinh email office@hoabinh.example place=xa-hoa-binh lang=en
notify = hook webhook $H/hook/json
notify = tg telegram $H/hook/telegram chat=-1001 place=thon-dong
$3
CONF
}
conf "$TMP/a.conf" "$DATA" "alert_remind_every = 0"

# the configuration is checked
expect_run "qrwatchd -t with recipients" 0 "$SERVER" -t -c "$TMP/a.conf"
expect_contains "recipients counted" "$OUT" "6 alert recipients"
sed -e "s|^catalog = .*|catalog = $TMP/c.catalog|; s|^probe = .*|probe = p1 $TMP/p1.secret|" \
    -e "s|^data_dir = .*|data_dir = $TMP/sample-data|" \
    "$(dirname "$0")/../../dashboard/qrwatchd.conf.sample" > "$TMP/sample.conf"
expect_run "the commented sample configuration is valid" 0 "$SERVER" -t -c "$TMP/sample.conf"
conf "$TMP/bad.conf" "$DATA" "notify = x pigeon somewhere
notify = y email not-an-address
notify = z email z@x.example place=nowhere
alert_digest_at = 25:00
alert_lang = fr"
expect_run "bad alert settings refused" 2 "$SERVER" -t -c "$TMP/bad.conf"
expect_contains "unknown channel named" "$ERR" "unknown channel 'pigeon'"
expect_contains "bad address named" "$ERR" "'not-an-address' is not an e-mail address"
expect_contains "bad digest time named" "$ERR" "alert_digest_at must be HH:MM"
expect_contains "bad language named" "$ERR" "alert_lang must be vi or en"
conf "$TMP/bad2.conf" "$DATA" "notify = z email z@x.example place=nowhere"
expect_run "unknown place refused" 2 "$SERVER" -t -c "$TMP/bad2.conf"
expect_contains "unknown place named" "$ERR" "recipient 'z' names place 'nowhere', which the catalog does not have"

SPID=""
start_server() {  # CONF
    rm -f "$TMP/server.port"
    "$SERVER" -c "$1" -p "$TMP/server.port" 2>>"$TMP/server.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    wait_file "$TMP/server.port"
    if [ ! -s "$TMP/server.port" ]; then
        fail "qrwatchd starts" "$(cat "$TMP/server.log")"
        finish
        exit 1
    fi
    S=$(cat "$TMP/server.port")
}
start_server "$TMP/a.conf"

# results, a batch at a time; times rise by 10 s from well in the past
T=$(($(date +%s) - 30000))
RS=""
add() {  # add TARGET VERDICT [STATUS]; $RES_EXTRA and $STEP_EXTRA add fields
    T=$((T + 10))
    ts=$(date -u -d "@$T" +%Y-%m-%dT%H:%M:%S.000Z)
    st=${3:-503}
    [ "$2" = OK ] && st=200
    r='{"target":"'$1'","time":"'$ts'","verdict":"'$2'","why_vi":"Cổng dịch vụ trả lỗi","why_en":"the portal failed","payload":"code-'$1'","failed_step":1,"total_us":1234000'"${RES_EXTRA:-}"',"steps":[{"name":"Trang thủ tục","status":'$st',"dns_us":1000,"connect_us":2000,"tls_us":0,"ttfb_us":800000,"transfer_us":4000,"total_us":1234000'"${STEP_EXTRA:-}"'}]}'
    RS="$RS${RS:+,}$r"
}
SEQ_p1=0 SEQ_p2=0 SEQ_p3=0
push() {  # push PROBE: send the results added so far as one signed batch
    eval "SEQ_$1=\$((SEQ_$1 + 1))"
    eval "seq=\$SEQ_$1"
    printf '{"probe":"%s","seq":%s,"clock_ms":%s,"uplink":"4g","version":"t","results":[%s]}' \
        "$1" "$seq" "$(($(date +%s) * 1000))" "$RS" > "$TMP/batch.json"
    RS=""
    got=$("$SEND" "http://127.0.0.1:$S/api/v1/ingest" "$1" "secret-of-$1-0123456789" "$TMP/batch.json")
    case "$got" in 200*) ;; *) fail "batch $1/$seq accepted" "$got" ;; esac
}
# settle: every notification due is out (sent or failed)
settle() {
    i=0
    while [ "$(db "SELECT count(*) FROM outbox WHERE state = 'pending'")" != 0 ] && [ $i -lt 150 ]; do
        sleep 0.1; i=$((i + 1))
    done
    sleep 0.2
}
MARK=0
mails() { $PY "$FIX/mailread.py" "$TMP/mail" > "$TMP/mails.txt"; }
# new_mails: the lines of mails received since the last mark, then move the mark
new_mails() {
    mails
    tail -n "+$((MARK + 1))" "$TMP/mails.txt" > "$TMP/new.txt"
    MARK=$(wc -l < "$TMP/mails.txt")
}
count() { grep -c -- "$1" "$TMP/new.txt"; }
body_of() { $PY "$FIX/mailread.py" "$TMP/mail" "$(grep -- "$1" "$TMP/new.txt" | head -n 1 | cut -f 1)"; }

# 1. two bad results: nothing yet; the third opens the incident
add t1 DOWN; push p1
add t1 DOWN; push p1
settle; new_mails
expect_eq "two DOWN results: no mail" "$(wc -l < "$TMP/new.txt")" "0"
add t1 DOWN; push p1
settle; new_mails
expect_eq "third DOWN: IT staff told once" "$(count 'it@huyen.example	opened')" "1"
expect_eq "third DOWN: Tân An's officials told once" "$(count 'vanphong@tanan.example	opened')" "1"
expect_eq "not urgent: the chairman (urgent only) not told" "$(count chutich@)" "0"
expect_eq "another commune not told" "$(count hoabinh)" "0"
BODY=$(body_of 'vanphong@tanan.example	opened')
SUBJ=$(grep 'vanphong@tanan.example	opened' "$TMP/new.txt" | cut -f 7)
expect_contains "subject: what and where" "$SUBJ" "cổng dịch vụ bị lỗi: Đăng ký khai sinh, Thôn Đông, Xã Tân An"
expect_contains "body: the procedure" "$BODY" 'thủ tục "Đăng ký khai sinh"'
expect_contains "body: the board" "$BODY" "Bảng tin: Nhà văn hoá thôn Đông, bảng tin ngoài hiên (b-dong)"
expect_contains "body: village and commune" "$BODY" "Địa điểm: Thôn Đông, Xã Tân An, Tỉnh Bắc Ninh"
expect_contains "body: the verdict in plain words" "$BODY" "Tình trạng: cổng dịch vụ bị lỗi (DOWN)"
expect_contains "body: since when, Vietnam time" "$BODY" "(giờ Việt Nam)"
expect_contains "body: the evidence" "$BODY" 'Bằng chứng: bước 1 "Trang thủ tục": HTTP 503, tổng 1234 ms, byte đầu tiên sau 800 ms'
expect_contains "body: the decoded code" "$BODY" "Mã đọc được: code-t1"
expect_contains "body: what to do" "$BODY" "Cần làm: Báo cho đơn vị vận hành cổng dịch vụ công"
expect_contains "body: a link to the target page" "$BODY" "https://qrwatch.huyen.example/target/t1"
expect_eq "webhook told once" "$(grep -c '^/hook/json	' "$TMP/hook.log")" "1"
HOOK=$(grep '^/hook/json	' "$TMP/hook.log" | head -n 1)
KEY=$(printf '%s' "$HOOK" | cut -f 2)
expect_contains "webhook: JSON with the dedupe id as Idempotency-Key" "$HOOK" "\"id\":\"$KEY\""
expect_contains "webhook: event and link" "$HOOK" '"event":"opened"'
expect_eq "telegram-style: told once" "$(grep -c '^/hook/telegram	' "$TMP/hook.log")" "1"
expect_contains "telegram-style: chat and text" "$(grep '^/hook/telegram	' "$TMP/hook.log")" '"chat_id":"-1001","text":"[qrwatch] cổng dịch vụ bị lỗi'

# 2. the verdict changes inside the open incident: an update, now urgent
add t1 HANG 0; push p1
settle; new_mails
expect_eq "HANG: IT staff get an update" "$(count 'it@huyen.example	changed')" "1"
expect_eq "HANG is urgent: the chairman now told" "$(count 'chutich@tanan.example	changed')" "1"
expect_contains "urgent subject" "$(grep 'chutich@' "$TMP/new.txt" | cut -f 7)" "[KHẨN]"
expect_contains "update says what changed" "$(body_of 'it@huyen.example	changed')" "cổng dịch vụ treo, không trả lời, trước đó cổng dịch vụ bị lỗi"
expect_eq "no new incident opened" "$(count opened)" "0"

# 3. one OK is not enough; the second resolves, to everyone told before
add t1 OK; push p1
settle; new_mails
expect_eq "one OK: nothing" "$(wc -l < "$TMP/new.txt")" "0"
add t1 OK; push p1
settle; new_mails
expect_eq "second OK: resolved to IT" "$(count 'it@huyen.example	resolved')" "1"
expect_eq "resolved to the officials" "$(count 'vanphong@tanan.example	resolved')" "1"
expect_eq "resolved to the chairman, who heard of it" "$(count 'chutich@tanan.example	resolved')" "1"
expect_contains "resolved text" "$(body_of 'it@huyen.example	resolved')" "đã hoạt động bình thường trở lại"
expect_eq "incident 1 resolved in SQLite" "$(db "SELECT state FROM incidents WHERE target = 't1'")" "resolved"

# 4. flapping: never three bad in a row, then never two good in a row
for v in DOWN OK DOWN DOWN OK DOWN OK DOWN DOWN OK; do add t2 "$v"; push p1; done
settle; new_mails
expect_eq "flapping below the threshold: no mail" "$(wc -l < "$TMP/new.txt")" "0"
for v in DOWN DOWN DOWN OK DOWN OK DOWN OK DOWN; do add t2 "$v"; push p1; done
settle; new_mails
expect_eq "flapping inside an incident: opened once" "$(count 'it@huyen.example	opened')" "1"
expect_eq "flapping inside an incident: never resolved" "$(count resolved)" "0"
add t2 OK; add t2 OK; push p1
settle; new_mails
expect_eq "then two OK resolve it" "$(count 'it@huyen.example	resolved')" "1"

# 5. English for the commune that asked for it
for i in 1 2 3; do add t5 STALE 404; done; push p1
settle; new_mails
expect_eq "Hoà Bình told, in English" "$(count 'office@hoabinh.example	opened')" "1"
expect_eq "Tân An not told of Hoà Bình" "$(count vanphong@)" "0"
BODY=$(body_of 'office@hoabinh.example	opened')
expect_contains "English: the headline" "$BODY" 'The QR code for "Chứng thực bản sao" has a problem: the code is stale: its page is gone.'
expect_contains "English: what to do" "$BODY" "What to do: Do not print the posted code again: its address no longer leads to the procedure."
expect_contains "English: since" "$BODY" "(Vietnam time)"
expect_contains "English: evidence" "$BODY" "Evidence: step 1 \"Trang thủ tục\": HTTP 404"
expect_contains "the IT copy stays Vietnamese" "$(body_of 'it@huyen.example	opened')" "Cần làm: Đừng in lại mã đang dán"
add t5 OK; add t5 OK; push p1
settle; new_mails

# 6. the same code failing from two probes: one incident about the service
for i in 1 2 3; do add t3 DOWN; done; push p1
settle; new_mails
expect_eq "t3 from p1: opened" "$(count 'it@huyen.example	opened')" "1"
for i in 1 2 3; do add t3 DOWN; done; push p2
settle; new_mails
expect_eq "t3 from p2 too: no second incident" "$(count opened)" "0"
expect_eq "t3 from p2 too: one update" "$(count 'it@huyen.example	changed')" "1"
expect_contains "the update says it is the service" "$(body_of 'it@huyen.example	changed')" "lỗi từ 2 điểm đo: lỗi ở chính dịch vụ"
expect_eq "one incident, both probes" "$(db "SELECT count(*) FROM incidents WHERE target = 't3'")/$(db "SELECT group_concat(probe) FROM incident_probes")" "1/p1,p2"
add t3 OK; add t3 OK; push p1
settle; new_mails
expect_eq "p1 fine again, p2 still failing: still open" "$(db "SELECT state FROM incidents WHERE target = 't3'")" "open"
add t3 OK; add t3 OK; push p2
settle; new_mails
expect_eq "both fine: resolved once" "$(count 'it@huyen.example	resolved')" "1"

# 7. a village router loses its uplink: every code from p1 fails at once
for i in 1 2 3; do for t in t1 t2 t3 t4 t5; do add $t DOWN; done; done; push p1
settle; new_mails
expect_eq "uplink: one incident for IT" "$(count 'it@huyen.example	opened')" "1"
expect_contains "uplink: says so" "$(grep 'it@huyen.example	opened' "$TMP/new.txt" | cut -f 7)" "Điểm đo p1 mất kết nối (5/5"
expect_eq "uplink: commune officials not flooded" "$(count tanan.example)/$(count hoabinh)" "0/0"
expect_eq "uplink: no per-code incidents" "$(db "SELECT count(*) FROM incidents WHERE kind = 'target' AND state = 'open'")" "0"
expect_contains "uplink: what to do" "$(body_of 'it@huyen.example	opened')" "Kiểm tra router và đường truyền 4G/5G của điểm đo p1"
for t in t1 t2 t3 t4 t5; do add $t OK; done; push p1
settle; new_mails
expect_eq "uplink back: resolved for IT" "$(count 'it@huyen.example	resolved')" "1"
expect_eq "uplink back: nothing about the held codes" "$(wc -l < "$TMP/new.txt")" "1"

# the resolver of p2 fails for t5's name alone (the probe says link_fault):
# that is p2's uplink, told to IT as DNS, and not t5's incident
for i in 1 2 3; do RES_EXTRA=',"link_fault":true' add t5 DOWN; add t1 OK; done; push p2
settle; new_mails
expect_contains "resolver: one uplink incident that says DNS" "$(grep 'it@huyen.example	opened' "$TMP/new.txt" | cut -f 7)" "Điểm đo p2 không hỏi được DNS (1/"
expect_eq "resolver: no incident for the code, nobody in the commune told" "$(db "SELECT count(*) FROM incidents WHERE kind = 'target' AND target = 't5' AND state = 'open'")/$(count tanan.example)/$(count hoabinh)" "0/0/0"
add t5 OK; push p2
settle; new_mails
expect_eq "resolver back: resolved for IT" "$(count 'it@huyen.example	resolved')" "1"

# a portal's certificate expires in 10 days: IT hears it before it breaks,
# the target page marks it, a renewed one resolves it
SOON=$(($(date +%s) + 10 * 86400 + 3600))
STEP_EXTRA=',"url":"https://dvc.tanan.example/ks","cert_expires":'$SOON add t2 OK; push p1
settle; new_mails
expect_contains "certificate: IT told, with the host and the days left" "$(grep 'it@huyen.example	opened' "$TMP/new.txt" | cut -f 7)" "Chứng chỉ HTTPS sắp hết hạn: dvc.tanan.example, còn 10 ngày"
expect_eq "certificate: not the commune's to fix" "$(count vanphong@tanan.example)/$(count chutich@)" "0/0"
expect_contains "certificate: among the open incidents" "$(curl -s "http://127.0.0.1:$S/api/v1/incidents")" '"kind":"cert","probe":"p1","target":"t2"'
expect_contains "certificate: the API names it" "$(curl -s "http://127.0.0.1:$S/api/v1/incidents")" '"cert_url":"https:\/\/dvc.tanan.example\/ks","cert_expires":'$SOON
expect_contains "certificate: counted in /metrics" "$(curl -s "http://127.0.0.1:$S/metrics")" 'qrwatch_incidents_open{kind="cert"} 1'
expect_contains "certificate: the target page marks the step" "$(curl -s "http://127.0.0.1:$S/target/t2")" '<small class="cert warn">Chứng chỉ HTTPS hết hạn'
STEP_EXTRA=',"url":"https://dvc.tanan.example/ks","cert_expires":'$((SOON + 80 * 86400)) add t2 OK; push p1
settle; new_mails
expect_contains "certificate renewed: resolved" "$(grep 'it@huyen.example	resolved' "$TMP/new.txt" | cut -f 7)" "Đã gia hạn: chứng chỉ HTTPS của dvc.tanan.example"
expect_contains "certificate renewed: the page shows it unmarked" "$(curl -s "http://127.0.0.1:$S/target/t2")" '<small class="cert">Chứng chỉ HTTPS hết hạn'

# the dashboard shows incidents; the API lists them with their notifications
for i in 1 2 3; do add t4 TAMPERED 200; done; push p2
settle; new_mails
expect_eq "TAMPERED is urgent: the chairman told" "$(count 'chutich@tanan.example	opened')" "1"
expect_contains "TAMPERED: go to the board" "$(body_of 'chutich@tanan.example	opened')" "Đến bảng tin ngay, gỡ mã lạ"
PAGE=$(curl -s "http://127.0.0.1:$S/")
expect_contains "overview lists the open incident" "$PAGE" 'data-kind="target" data-target="t4"'
expect_contains "overview in Vietnamese" "$PAGE" "Sự cố đang mở"
PAGE=$(curl -s "http://127.0.0.1:$S/target/t1?lang=en")
expect_contains "target page: incident history" "$PAGE" "Incidents and notifications"
expect_contains "target page: notifications listed" "$PAGE" "<td>tanan (email)</td><td>sent</td>"
JSON=$(curl -s "http://127.0.0.1:$S/api/v1/incidents")
expect_contains "JSON API: incidents" "$JSON" '"kind":"uplink","probe":"p1"'
expect_contains "JSON API: notification states" "$JSON" '"state":"sent"'
expect_contains "metrics: open incidents" "$(curl -s "http://127.0.0.1:$S/metrics")" 'qrwatch_incidents_open{kind="target"} 1'
mails
expect_eq "no Message-ID delivered twice so far" "$(cut -f 5 "$TMP/mails.txt" | sort | uniq -d | wc -l)" "0"
expect_eq "every sent notification arrived" "$(db "SELECT count(*) FROM outbox WHERE state = 'sent' AND channel = 'email'")" "$(wc -l < "$TMP/mails.txt")"

# 8. the SMTP server is down, incidents happen, qrwatchd is killed -9;
#    after both restart every notification arrives exactly once
kill "$SMTPPID"; wait "$SMTPPID" 2>/dev/null
for i in 1 2 3; do add t2 HANG 0; done; push p1
for i in 1 2 3; do add t5 DOWN; done; push p1
sleep 1.5
PENDING=$(db "SELECT count(*) FROM outbox WHERE state = 'pending' AND channel = 'email'")
expect_eq "with SMTP down the mails wait in the outbox" "$([ "$PENDING" -ge 5 ] && echo yes)" "yes"
expect_contains "the failure is recorded" "$(db "SELECT last_error FROM outbox WHERE state = 'pending' AND channel = 'email' LIMIT 1")" "smtp:"
kill -9 "$SPID"; wait "$SPID" 2>/dev/null
start_smtp "$SMTP"
start_server "$TMP/a.conf"
settle; new_mails
expect_eq "after the restart all waiting mails arrived" "$(wc -l < "$TMP/new.txt")" "$PENDING"
expect_eq "each exactly once (by Message-ID)" "$(cut -f 5 "$TMP/mails.txt" | sort | uniq -d | wc -l)" "0"
expect_eq "and the outbox agrees" "$(db "SELECT count(*) FROM outbox WHERE state = 'sent' AND channel = 'email'")" "$(wc -l < "$TMP/mails.txt")"
kill "$SPID"; wait "$SPID"

# 9. time: a silent probe, reminders, the daily digest, and a webhook that
#    never accepts, which ends on the dashboard as undeliverable
DATA="$TMP/data2"
conf "$TMP/b.conf" "$DATA" "alert_remind_every = 2s
alert_silent_after = 2s
alert_digest_at = 00:00
alert_give_up = 2s
notify = digest email digest@huyen.example digest=yes severity=urgent
notify = broken webhook $H/hook/fail"
start_server "$TMP/b.conf"
# a router once known, since taken out of the configuration
db "INSERT INTO probes (id, last_seen_ms) VALUES ('old-router', 1000)"
add t1 OK; push p3
settle; new_mails
expect_eq "digest sent once a day" "$(count 'digest@huyen.example	digest')" "1"
expect_contains "digest subject" "$(grep 'digest@' "$TMP/new.txt" | cut -f 7)" "Tóm tắt ngày"
i=0
while [ "$(db "SELECT count(*) FROM outbox WHERE recipient = 'it' AND event = 'reminder'")" = 0 ] && [ $i -lt 80 ]; do
    sleep 0.1; i=$((i + 1))
done
settle; new_mails
expect_eq "silent probe: IT told" "$(count 'it@huyen.example	opened')" "1"
expect_contains "silent probe: says so" "$(grep 'it@huyen.example	opened' "$TMP/new.txt" | cut -f 7)" "Điểm đo p3 không gửi kết quả"
expect_eq "silent probe: not the communes" "$(count tanan.example)" "0"
expect_eq "a probe taken out of the configuration is not missed" "$(db "SELECT count(*) FROM incidents WHERE probe = 'old-router'")" "0"
expect_eq "reminder while it stays open" "$([ "$(count 'it@huyen.example	reminder')" -ge 1 ] && echo yes)" "yes"
expect_contains "reminder text" "$(grep 'it@huyen.example	reminder' "$TMP/new.txt" | head -n 1 | cut -f 7)" "Nhắc lại"
add t1 OK; push p3
settle; new_mails
expect_eq "the probe is back: resolved" "$(count 'it@huyen.example	resolved')" "1"
i=0
while [ "$(db "SELECT count(*) FROM outbox WHERE state = 'failed'")" = 0 ] && [ $i -lt 80 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "a receiver that never accepts: given up after the limit" "$(db "SELECT count(*) > 0 FROM outbox WHERE state = 'failed' AND recipient = 'broken'")" "1"
expect_contains "its error is kept" "$(db "SELECT last_error FROM outbox WHERE state = 'failed' LIMIT 1")" "HTTP 500"
PAGE=$(curl -s "http://127.0.0.1:$S/")
expect_contains "the overview shows what could not be delivered" "$PAGE" "Thông báo không gửi được"
expect_contains "and to whom" "$PAGE" "broken (webhook)"
kill "$SPID"; wait "$SPID"
expect_eq "server stopped cleanly" "$?" "0"
# 10. a database as the first qrwatchd wrote it (schema 1: before the
#     alerts, epochs and typed results) is migrated at start, keeping its
#     results and latest states, and incidents work on it
DATA="$TMP/data3"
mkdir -p "$DATA"
T1=$(date -u -d "@$((T + 10))" +%Y-%m-%dT%H:%M:%S.000Z)
T=$((T + 10))
R1='{"target":"t1","time":"'$T1'","verdict":"DOWN","why_vi":"Cổng dịch vụ trả lỗi","payload":"code-t1","failed_step":1,"total_us":1234000,"steps":[{"name":"Trang thủ tục","method":"GET","status":503,"dns_us":1000,"connect_us":2000,"ttfb_us":800000,"total_us":1234000}]}'
sqlite3 "$DATA/qrwatch.db" "PRAGMA journal_mode=WAL;
    CREATE TABLE probes (id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0,
      last_seen_ms INTEGER, uplink TEXT, version TEXT, clock_offset_ms INTEGER,
      since_sync_s INTEGER, spool_pending INTEGER, spool_dropped INTEGER);
    CREATE TABLE results (id INTEGER PRIMARY KEY, probe TEXT NOT NULL, target TEXT NOT NULL,
      time_ms INTEGER NOT NULL, probe_time TEXT NOT NULL, verdict TEXT NOT NULL, uplink TEXT,
      json TEXT NOT NULL, in_rrd INTEGER NOT NULL DEFAULT 0, UNIQUE (probe, target, probe_time));
    CREATE INDEX results_by_target ON results (target, time_ms);
    CREATE TABLE latest (probe TEXT NOT NULL, target TEXT NOT NULL, time_ms INTEGER NOT NULL,
      verdict TEXT NOT NULL, json TEXT NOT NULL, since_ms INTEGER NOT NULL,
      PRIMARY KEY (probe, target));
    CREATE TABLE verdict_changes (probe TEXT NOT NULL, target TEXT NOT NULL,
      time_ms INTEGER NOT NULL, old TEXT, new TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO probes VALUES ('p3', 7, $((T * 1000)), '4g', 't', 0, 0, 0, 0);
    INSERT INTO results VALUES (1, 'p3', 't1', $((T * 1000)), '$T1', 'DOWN', '4g', '$R1', 1);
    INSERT INTO latest VALUES ('p3', 't1', $((T * 1000)), 'DOWN', '$R1', $((T * 1000)));
    PRAGMA user_version = 1;" > /dev/null
expect_eq "a schema-1 database" "$(db 'PRAGMA user_version')" "1"
conf "$TMP/c.conf" "$DATA" ""
start_server "$TMP/c.conf"
expect_eq "migrated to the current schema at start" "$(db 'PRAGMA user_version')" "9"
expect_eq "the alerts' tables made by their own migrations" "$(db "SELECT version FROM schema_modules WHERE name = 'alerts'")" "5"
expect_eq "its batch numbers kept as the epoch before epochs" "$(db "SELECT epoch || ':' || last_seq FROM probe_epochs WHERE probe = 'p3'")" ":7"
expect_eq "its results kept, their values typed" "$(db "SELECT count(*) || ':' || total_us || ':' || connect_us || ':' || status FROM results WHERE target = 't1'")" "1:1234000:2000:503"
expect_eq "its latest state kept, its steps as rows" "$(db "SELECT l.verdict || ':' || l.payload || ':' || s.name FROM latest l JOIN latest_steps s USING (probe, target)")" "DOWN:code-t1:Trang thủ tục"
expect_eq "and the target's state" "$(db "SELECT verdict || ':' || probes FROM target_state WHERE target = 't1'")" "DOWN:1"
expect_eq "its RRD file's mark from the result written there (in_rrd)" "$(db "SELECT on_disk_ms FROM rrd_marks WHERE probe = 'p3' AND target = 't1'")" "$((T * 1000))"
expect_contains "the target page reads it" "$(curl -s "http://127.0.0.1:$S/target/t1")" "Cổng dịch vụ trả lỗi"
SEQ_p3=7
add t1 DOWN; add t1 DOWN; add t1 DOWN; push p3
settle
expect_eq "incidents work on the migrated database" "$(db "SELECT count(*) FROM incidents WHERE target = 't1' AND state = 'open'")" "1"
kill "$SPID"; wait "$SPID"
expect_eq "no sanitizer or runtime reports from qrwatchd" "$(grep -c 'Sanitizer\|runtime error' "$TMP/server.log")" "0"
kill "$SMTPPID"
finish
