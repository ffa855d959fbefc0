#!/bin/sh
# test_real_servers.sh - qrwatch-probe against servers this project did not
# write: Debian's python3-httpbin under gunicorn and Debian's nginx with
# certificates made here by the openssl command (valid, expiring soon,
# self-signed, for another name, from an unknown CA, expired). Each case is
# a defect of issue 13 and fails on the code before its fix.
. "$(dirname "$0")/lib.sh"
PROBE="$QRW_BUILD/qrwatch-probe"
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT INT TERM

for tool in gunicorn nginx openssl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool is installed (.ci/deps installs it)" "not found"
        finish
    fi
done

# free_port: a TCP port on loopback that nothing listens on now
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json EXPR: evaluate a Python expression over the JSON result on stdin (as r)
json() {
    python3 -c 'import json, sys; r = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# --- httpbin, started by the test on loopback -------------------------------
H=""
for try in 1 2 3; do
    H=$(free_port)
    gunicorn -w 1 -b "127.0.0.1:$H" httpbin:app >"$TMP/httpbin.log" 2>&1 &
    HPID=$!
    i=0
    while [ $i -lt 100 ] && ! curl -fs "http://127.0.0.1:$H/get" >/dev/null 2>&1; do
        sleep 0.1; i=$((i + 1))
    done
    curl -fs "http://127.0.0.1:$H/get" >/dev/null 2>&1 && break
    kill "$HPID" 2>/dev/null
    H=""
done
PIDS="$PIDS $HPID"
if [ -z "$H" ]; then
    fail "httpbin starts under gunicorn" "$(tail -5 "$TMP/httpbin.log")"
    finish
fi
HB="http://httpbin.test:$H"
RES="--resolve httpbin.test:$H:127.0.0.1 --allow-private 127.0.0.1"

# --- certificates, by the openssl command -----------------------------------
C="$TMP/certs"
mkdir -p "$C"
# cert NAME DAYS SAN ISSUER: a P-256 key and a certificate for SAN, signed by
# ISSUER (ca or other), or self-signed when ISSUER is "self"
cert() {
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" > "$C/$1.ext"
    if [ "$4" = self ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=$1" -days "$2" -keyout "$C/$1.key" -out "$C/$1.pem" \
            -addext "subjectAltName=$3" 2>>"$C/log"
    else
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.csr" 2>>"$C/log" &&
        openssl x509 -req -in "$C/$1.csr" -CA "$C/$4.pem" -CAkey "$C/$4.key" \
            -CAcreateserial -days "$2" -extfile "$C/$1.ext" -out "$C/$1.pem" 2>>"$C/log"
    fi
}
for ca in ca other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=qrwatch test $ca" -days 400 -keyout "$C/$ca.key" -out "$C/$ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$C/log"
done
cert good 200 "DNS:portal.test,DNS:localhost" ca
cert soon 10 "DNS:portal.test" ca
cert wrongname 200 "DNS:other.test" ca
cert unknown 200 "DNS:portal.test" other
cert self 200 "DNS:portal.test" self
# openssl x509 cannot backdate: the fixture's mkcert makes the expired one
mkdir -p "$C/mk"
"$QRW_BUILD/tests/mkcert" "$C/mk" && cp "$C/mk/expired.pem" "$C/mk/expired.key" "$C/"
cat "$C/ca.pem" "$C/mk/ca.pem" > "$C/trusted.pem"
for n in good soon wrongname unknown self expired; do
    [ -s "$C/$n.pem" ] || { fail "certificate $n made" "$(tail -3 "$C/log")"; finish; }
done

# --- nginx with those certificates ------------------------------------------
N="$TMP/nginx"
mkdir -p "$N/logs" "$N/tmp" "$N/www/trang"
# a procedure page as portals write them: the name in numeric entities, in
# decomposed Vietnamese (NFD), in capitals, with a stray NUL byte, and a
# hidden form field
printf '<html><head><title>TH&#7910; T&#7908;C</title></head><body>\n' > "$N/www/trang/ks.html"
printf '<h1 id="ten">\304\220\304\203ng ky\314\201 khai sinh</h1>\n' >> "$N/www/trang/ks.html"
printf '<p>&#272;&#258;NG K&#221; KHAI\000 SINH tr\341\273\261c tuy\341\272\277n</p>\n' >> "$N/www/trang/ks.html"
printf '<form><input type="hidden" name="csrf_token" value="x&amp;y z"></form>\n' >> "$N/www/trang/ks.html"
printf '<script>var trang = "Trang chủ";</script></body></html>\n' >> "$N/www/trang/ks.html"
# the portal's home page: menus, news, a search box; and its search results
{
    printf '<html><head><title>Cổng Dịch vụ công tỉnh Bắc Ninh</title></head><body>\n'
    printf '<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/tin">Tin tức</a></li>'
    printf '<li><a href="/tim-kiem">Tra cứu</a></li><li><a href="/ho-tro">Hỗ trợ</a></li></ul></nav>\n'
    printf '<form action="/tim-kiem" method="get"><input name="q"><button>Tìm</button></form>\n'
    for i in 1 2 3 4 5 6; do
        printf '<div class="tin"><h3><a href="/tin/%s">Tin số %s</a></h3><p>Thủ tục nổi bật: Đăng ký khai sinh</p></div>\n' "$i" "$i"
    done
    printf '</body></html>\n'
} > "$N/www/home.html"
{
    printf '<html><head><title>Tìm kiếm thủ tục</title></head><body>\n'
    printf '<form action="/tim-kiem" method="get"><input name="q" value="1.001193"><button>Tìm</button></form>\n'
    printf '<p>Kết quả cho 1.001193: Đăng ký khai sinh</p></body></html>\n'
} > "$N/www/search.html"
{
    # the workers read the test's files, in a folder only its owner may open
    [ "$(id -u)" -eq 0 ] && printf 'user root;\n'
    printf 'worker_processes 1;\nerror_log %s/logs/error.log;\npid %s/nginx.pid;\n' "$N" "$N"
    printf 'events { worker_connections 64; }\nhttp {\n'
    printf ' access_log %s/logs/access.log;\n client_body_temp_path %s/tmp;\n' "$N" "$N"
    printf ' proxy_temp_path %s/tmp;\n fastcgi_temp_path %s/tmp;\n' "$N" "$N"
    printf ' uwsgi_temp_path %s/tmp;\n scgi_temp_path %s/tmp;\n' "$N" "$N"
    printf ' default_type "text/html; charset=utf-8";\n keepalive_timeout 30;\n'
    for n in good soon wrongname unknown self expired; do
        port=$(free_port)
        echo "$port" > "$N/$n.port"
        printf ' server {\n  listen 127.0.0.1:%s ssl;\n  server_name portal.test localhost;\n' "$port"
        printf '  ssl_certificate %s/%s.pem;\n  ssl_certificate_key %s/%s.key;\n' "$C" "$n" "$C" "$n"
        printf '  location = /thu-tuc { return 200 "<html><title>Thủ tục</title><body>Đăng ký khai sinh <a href=/b>tiếp</a></body></html>"; }\n'
        printf '  location = /b { return 200 "<html><body>Bước hai</body></html>"; }\n'
        printf '  root %s/www;\n  location /trang/ { }\n' "$N"
        # a portal after a migration: many addresses show its home page
        printf '  location = / { try_files /home.html =404; }\n'
        printf '  location ~ ^/(trang-chu/|default[.]aspx|Pages/default[.]aspx|index[.]jsp|home[.]html|vi/|p/home/dvc-trang-chu[.]html)$ { try_files /home.html =404; }\n'
        printf '  location = /thu-tuc-cu { return 302 /p/home/dvc-trang-chu.html; }\n'
        printf '  location = /tim-kiem { try_files /search.html =404; }\n'
        printf '  location / { return 404; }\n }\n'
    done
    printf '}\n'
} > "$N/nginx.conf"
nginx -p "$N" -c "$N/nginx.conf" -g 'daemon off;' 2>"$N/start.log" &
PIDS="$PIDS $!"
i=0
while [ $i -lt 100 ] && ! curl -fs --cacert "$C/ca.pem" \
        "https://localhost:$(cat "$N/good.port")/thu-tuc" >/dev/null 2>&1; do
    sleep 0.1; i=$((i + 1))
done
NRES=""
for n in good soon wrongname unknown self expired; do
    NRES="$NRES --resolve portal.test:$(cat "$N/$n.port"):127.0.0.1"
done
NRES="$NRES --allow-private 127.0.0.1 --ca $C/trusted.pem"
NG="https://portal.test:$(cat "$N/good.port")"

# --- 2. form values and query values are URL-encoded ------------------------
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n' > "$TMP/c.catalog"
printf '[board b]\nplace = p\nlocation = Nhà văn hoá thôn Đông\n' >> "$TMP/c.catalog"
# target ID URL FLOW [lines...]: a target whose board shows URL
target() {
    id=$1 url=$2 flow=$3
    shift 3
    "$QRWATCH" encode -o "$TMP/$id.png" "$url" >/dev/null
    {
        printf '\n[target %s]\nboard = b\nprocedure = Đăng ký khai sinh\n' "$id"
        printf 'image = %s\nofficial_domains = httpbin.test portal.test\n' "$TMP/$id.png"
        printf 'allow_private = 127.0.0.1\n'
        [ -n "$flow" ] && printf 'flow = %s\n' "$flow"
        for l in "$@"; do printf '%s\n' "$l"; done
    } >> "$TMP/c.catalog"
}
# httpbin echoes what it parsed: the flow sends it back out in a query, so
# the result's URLs show what httpbin received
cat >> "$TMP/c.catalog" <<'CAT'

[flow form]
name = Gửi biểu mẫu

[step]
name = Lấy mã
url = {payload}
capture = token json $.args.t

[step]
name = Gửi tên
method = POST
url = /post?q={token}
form = lastname=A & B+C=D
form = token={token}
capture = got json $.form.lastname
capture = gotq json $.args.q

[step]
name = Nói lại
url = /anything?got={got}&q={gotq}

[flow multipart]
name = Gửi biểu mẫu nhiều phần

[step]
name = Gửi
method = POST
url = {payload}
enctype = multipart/form-data
form = hoten=Nguyễn Văn A & B
capture = ctype json $.headers.Content-Type
capture = got json $.form.hoten

[step]
name = Nói lại
url = /anything?ctype={ctype}&got={got}

[flow tls]
name = Hai trang

[step]
name = Trang thủ tục
url = {payload}
expect_text = Đăng ký khai sinh

[step]
name = Bước hai
url = /b
expect_text = Bước hai
CAT
target form "$HB/get?t=A%26B%20C" form
target multipart "$HB/post" multipart
target redirect "$HB/redirect-to?url=/get&status_code=301" ""
target tls "$NG/thu-tuc" tls

expect_run "a form with '&', '+' and '=' in a literal value, to httpbin" 0 \
    "$PROBE" check -j -c "$TMP/c.catalog" $RES form
expect_eq "a captured 'A&B C' went into the query whole" \
    "$(echo "$OUT" | json 'r["steps"][1]["url"]')" "http://httpbin.test:$H/post?q=A%26B%20C"
expect_eq "httpbin parsed the literal 'A & B+C=D' and the query 'A&B C'" \
    "$(echo "$OUT" | json 'r["steps"][2]["url"]')" \
    "http://httpbin.test:$H/anything?got=A%20%26%20B%2BC%3DD&q=A%26B%20C"

expect_run "a multipart/form-data form, to httpbin" 0 \
    "$PROBE" check -j -c "$TMP/c.catalog" $RES multipart
expect_contains "enctype = multipart/form-data sends multipart" \
    "$(echo "$OUT" | json 'r["steps"][1]["url"]')" "ctype=multipart%2Fform-data%3B%20boundary%3D"
expect_contains "httpbin read the multipart field whole" \
    "$(echo "$OUT" | json 'r["steps"][1]["url"]')" "got=Nguy%E1%BB%85n%20V%C4%83n%20A%20%26%20B"

# --- 5. the redirect chain starts at the scanned URL ------------------------
expect_run "a 301 from httpbin" 0 "$PROBE" check -j -c "$TMP/c.catalog" $RES redirect
expect_eq "the chain names the 301, the scanned URL and its Location" \
    "$(echo "$OUT" | json '[(h["status"], h["url"], h["location"]) for h in r["steps"][0]["redirect_chain"]]')" \
    "[(301, 'http://httpbin.test:$H/redirect-to?url=/get&status_code=301', '/get')]"
expect_eq "and the step ends on the page it led to" \
    "$(echo "$OUT" | json '(r["steps"][0]["status"], r["steps"][0]["final_url"])')" \
    "(200, 'http://httpbin.test:$H/get')"

# --- 4 and 8. TLS: extra_ca adds to the system store; each failure in words --
expect_run "nginx with a certificate from the extra CA" 0 \
    "$PROBE" check -j -c "$TMP/c.catalog" $NRES tls
expect_eq "both steps passed" "$(echo "$OUT" | json 'r["verdict"]')" "OK"
expect_eq "step 1 opened a TLS connection, step 2 reused it" \
    "$(echo "$OUT" | json '(r["steps"][0]["connect_us"] > 0, r["steps"][0]["tls_us"] > 0, r["steps"][0]["reused"], r["steps"][1]["reused"], r["steps"][1]["tls_us"])')" \
    "(True, True, False, True, 0)"
days=$(echo "$OUT" | json 'round((r["steps"][0]["cert_expires"] - __import__("time").time()) / 86400)')
expect_eq "the leaf certificate's expiry is in the result (200 days)" "$days" "200"

tls_case() {  # tls_case NAME VI-WORDS EN-WORDS
    "$PROBE" check -j -c "$TMP/c.catalog" $NRES "https://portal.test:$(cat "$N/$1.port")/thu-tuc" \
        > "$TMP/$1.json" 2>"$TMP/$1.err"
    expect_eq "$1 certificate: DOWN" "$(json 'r["verdict"]' < "$TMP/$1.json")" "DOWN"
    expect_contains "$1 certificate: its own Vietnamese words" \
        "$(json 'r["why_vi"]' < "$TMP/$1.json")" "$2"
    expect_contains "$1 certificate: its own English words" \
        "$(json 'r["why_en"]' < "$TMP/$1.json")" "$3"
    expect_eq "$1 certificate: connect and TLS times up to the failure" \
        "$(json '(r["steps"][0]["connect_us"] > 0, r["steps"][0]["tls_us"] > 0, r["steps"][0]["reused"])' < "$TMP/$1.json")" \
        "(True, True, False)"
}
tls_case expired "đã hết hạn" "has expired"
tls_case self "tự ký" "self-signed"
tls_case wrongname "tên miền khác" "another name"
tls_case unknown "không tin cậy" "phones do not trust"

# --- 7. expect_text matches the text a browser shows ----------------------
cat >> "$TMP/c.catalog" <<'CAT'

[flow trang]
name = Trang thủ tục

[step]
name = Trang thủ tục
url = {payload}
expect_text = Đăng ký khai sinh trực tuyến
reject_text = Trang chủ
capture = csrf field csrf_token
capture = ten element #ten

[step]
name = Nộp
url = /b?t={csrf}&ten={ten}
CAT
target trang "$NG/trang/ks.html" trang "expect_text = thủ tục"
expect_run "a page with entities, NFD, capitals and a NUL byte, from nginx" 0 \
    "$PROBE" check -j -c "$TMP/c.catalog" $NRES trang
expect_eq "is OK, and a script's text is not on the page" "$(echo "$OUT" | json 'r["verdict"]')" "OK"
expect_eq "a form field and an element are captured by name" \
    "$(echo "$OUT" | json 'r["steps"][1]["url"]')" \
    "$NG/b?t=x%26y%20z&ten=%C4%90%C4%83ng%20k%C3%BD%20khai%20sinh"

# --- 6. a code that lands on the portal's home or search page is STALE -----
# every one of these passed as OK when home pages were a list of paths
NP="https://portal.test:$(cat "$N/good.port")"
for path in trang-chu/ p/home/dvc-trang-chu.html default.aspx Pages/default.aspx \
        index.jsp home.html vi/ thu-tuc-cu; do
    "$PROBE" check -j -c "$TMP/c.catalog" $NRES "$NP/$path" > "$TMP/home.json" 2>"$TMP/home.err"
    expect_eq "/$path shows the portal's home page: STALE" \
        "$(json '(r["verdict"], "home page" in r["why_en"])' < "$TMP/home.json")" "('STALE', True)"
done
"$PROBE" check -j -c "$TMP/c.catalog" $NRES "$NP/tim-kiem?q=1.001193" > "$TMP/search.json" 2>&1
expect_eq "a code that lands on search results: STALE" \
    "$(json '(r["verdict"], "search page" in r["why_en"])' < "$TMP/search.json")" "('STALE', True)"
"$PROBE" check -j -c "$TMP/c.catalog" $NRES "$NP/" > "$TMP/root.json" 2>&1
expect_eq "a code for the portal itself is not stale" "$(json 'r["verdict"]' < "$TMP/root.json")" "OK"
"$PROBE" check -j -c "$TMP/c.catalog" $NRES "$NP/trang/ks.html" > "$TMP/proc.json" 2>&1
expect_eq "and a procedure's own page is OK" "$(json 'r["verdict"]' < "$TMP/proc.json")" "OK"

# --- 8. a socket that takes the connection and never answers the handshake -
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(120)' > "$TMP/silent.port" &
PIDS="$PIDS $!"
wait_file "$TMP/silent.port"
SILENT=$(cat "$TMP/silent.port")
"$QRWATCH" encode -o "$TMP/silent.png" "https://portal.test:$SILENT/thu-tuc" >/dev/null
cat >> "$TMP/c.catalog" <<CAT

[target silent]
board = b
procedure = Đăng ký khai sinh
image = $TMP/silent.png
official_domains = portal.test
allow_private = 127.0.0.1
connect_timeout_ms = 1000
CAT
expect_run "a TLS handshake that never answers" 1 "$PROBE" check -j -c "$TMP/c.catalog" \
    --resolve "portal.test:$SILENT:127.0.0.1" silent
expect_eq "is a HANG in the handshake, not a connection that did not open" \
    "$(echo "$OUT" | json '(r["verdict"], "TLS handshake" in r["why_en"], "bắt tay bảo mật" in r["why_vi"])')" \
    "('HANG', True, True)"
expect_eq "with the TCP connect and the second of waiting in the handshake" \
    "$(echo "$OUT" | json '(r["steps"][0]["connect_us"] > 0, r["steps"][0]["tls_us"] >= 900000)')" \
    "(True, True)"

# --- 1. in run mode every check opens its own connection --------------------
# six targets on one nginx: each first check within 3 s of the start (a 30 s
# interval spreads them over its tenth); a two-step flow shows reuse inside
cat > "$TMP/run.catalog" <<'CAT'
[place p]
province = Tỉnh Bắc Ninh
commune = Xã Tân An

[board b]
place = p
location = Nhà văn hoá thôn Đông

[flow tls]
name = Hai trang

[step]
name = Trang thủ tục
url = {payload}

[step]
name = Bước hai
url = /b
CAT
"$QRWATCH" encode -o "$TMP/run.png" "https://portal.test:$(cat "$N/good.port")/thu-tuc" >/dev/null
for i in 1 2 3 4 5 6; do
    printf '\n[target r%s]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$i" "$TMP/run.png"
    printf 'official_domains = portal.test\nallow_private = 127.0.0.1\ninterval = 30\nflow = tls\n'
done >> "$TMP/run.catalog"
cat > "$TMP/run.conf" <<CONF
probe_id = thon-dong-1
secret = s3cret-for-the-tests-only
catalog = $TMP/run.catalog
uplink = 4g
spool_dir = $TMP/spool
flush_every = 1
concurrency = 2
extra_ca = $C/trusted.pem
CONF
# a real lookup of portal.test, not a pinned address: /etc/hosts names it
# inside a mount namespace of the probe's own (the system's file is untouched)
printf '127.0.0.1 portal.test\n' > "$TMP/hosts"
if unshare -m sh -c "mount --bind '$TMP/hosts' /etc/hosts" 2>/dev/null; then
    unshare -m sh -c "mount --bind '$TMP/hosts' /etc/hosts && exec '$PROBE' run -c '$TMP/run.conf'" \
        2>"$TMP/run.log" &
else
    echo "note: no mount namespace here (unshare -m): portal.test pinned by resolve, DNS is a cache hit"
    printf 'resolve = portal.test:%s:127.0.0.1\n' "$(cat "$N/good.port")" >> "$TMP/run.conf"
    "$PROBE" run -c "$TMP/run.conf" 2>"$TMP/run.log" &
fi
RPID=$!
PIDS="$PIDS $RPID"
i=0
while [ $i -lt 100 ]; do
    n=$("$QRW_BUILD/tests/spooldump" "$TMP"/spool/seg-* 2>/dev/null | wc -l)
    [ "$n" -ge 6 ] && break
    sleep 0.1; i=$((i + 1))
done
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
"$QRW_BUILD/tests/spooldump" -j "$TMP"/spool/seg-* > "$TMP/run.jsonl" 2>/dev/null
expect_eq "six checks ran in run mode" "$(wc -l < "$TMP/run.jsonl" | tr -d ' ')" "6"
expect_eq "every check's first step looked up, connected and shook hands anew" \
    "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for r in rows if r["steps"][0]["dns_us"] > 0 and r["steps"][0]["connect_us"] > 0
          and r["steps"][0]["tls_us"] > 0 and not r["steps"][0]["reused"]), "of", len(rows))' "$TMP/run.jsonl")" \
    "6 of 6"
expect_eq "and every second step reused its check's connection" \
    "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for r in rows if len(r["steps"]) > 1 and r["steps"][1]["reused"]), "of", len(rows))' "$TMP/run.jsonl")" \
    "6 of 6"

# --- 11. small ones: one step's words, phases that add up, sub-ms phases ---
expect_run "one GET to httpbin, in English" 0 "$PROBE" check -j -e $RES "$HB/get"
expect_contains "a one-step check says the page opened, not 'All 1 step'" \
    "$(echo "$OUT" | json 'r["why_en"]')" "The page opened within"
expect_eq "its five phases add up to the step's total" \
    "$(echo "$OUT" | json 'abs(sum(r["steps"][0][k] for k in ("dns_us", "connect_us", "tls_us", "ttfb_us", "transfer_us")) - r["steps"][0]["total_us"]) <= 5')" \
    "True"
expect_run "the same GET, drawn as a waterfall" 0 "$PROBE" check -e $RES "$HB/get"
expect_contains "a sub-millisecond phase is shown with two decimals" "$OUT" "connect 0."
case "$OUT" in
    *" 0.0 "*|*"took 0 ms"*) fail "no phase reads 0.0 ms and no check took 0 ms" "$OUT" ;;
    *) pass "no phase reads 0.0 ms and no check took 0 ms" ;;
esac

# --- 9. a name that is gone is STALE; a resolver that fails is DOWN --------
# a small DNS server on 127.0.5.3:53 answers NXDOMAIN for gone.test,
# SERVFAIL for broken.test and nothing for silent.test; the probe runs in a
# mount namespace whose /etc/resolv.conf names it
cat > "$TMP/dns.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.5.3", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    ident, flags = struct.unpack("!HH", q[:4])
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace").lower())
        i += 1 + q[i]
    name = ".".join(labels)
    question = q[12:i + 5]
    if name.startswith("silent"):
        continue
    rcode = 3 if name.startswith("gone") else 2
    s.sendto(struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, 0, 0, 0) + question, peer)
PY
printf 'nameserver 127.0.5.3\noptions timeout:1 attempts:1\n' > "$TMP/resolv.conf"
if unshare -m sh -c "mount --bind '$TMP/resolv.conf' /etc/resolv.conf" 2>/dev/null; then
    python3 "$TMP/dns.py" > "$TMP/dns.out" 2>"$TMP/dns.err" &
    PIDS="$PIDS $!"
    wait_file "$TMP/dns.out"
    # ns NAME: a one-GET check of http://NAME/ in the namespace, its JSON in $OUT
    ns() {
        OUT=$(unshare -m sh -c "mount --bind '$TMP/resolv.conf' /etc/resolv.conf &&
            exec '$PROBE' check -j http://$1/" 2>"$TMP/ns.err")
    }
    ns gone.test
    expect_eq "NXDOMAIN: the name is gone, STALE" \
        "$(echo "$OUT" | json '(r["verdict"], "NXDOMAIN" in r["why_en"], r.get("link_fault", False))')" \
        "('STALE', True, False)"
    ns broken.test
    expect_eq "SERVFAIL: the resolver failed, DOWN and said to be the link's" \
        "$(echo "$OUT" | json '(r["verdict"], "village link" in r["why_en"], r.get("link_fault"))')" \
        "('DOWN', True, True)"
    ns silent.test
    expect_eq "no answer from the resolver: DOWN too" \
        "$(echo "$OUT" | json '(r["verdict"], "did not answer" in r["why_en"], r.get("link_fault"))')" \
        "('DOWN', True, True)"
    expect_eq "the lookup command says the same" \
        "$(unshare -m sh -c "mount --bind '$TMP/resolv.conf' /etc/resolv.conf &&
            '$PROBE' lookup gone.test; echo \$?; '$PROBE' lookup broken.test; echo \$?" | tr '\n' ' ')" \
        "no such name: gone.test 3 no answer: broken.test (Temporary failure in name resolution) 4 "
else
    echo "note: no mount namespace here (unshare -m): the DNS cases were not run"
fi

# --- a connection that never opened is never "reused" -----------------------
CLOSED=$(free_port)
expect_run "a refused connection" 1 "$PROBE" check -j --allow-private 127.0.0.1 \
    "http://127.0.0.1:$CLOSED/"
expect_eq "a refused connection is not called reused" \
    "$(echo "$OUT" | json '(r["verdict"], r["steps"][0]["reused"])')" "('DOWN', False)"

finish
