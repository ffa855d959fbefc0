#!/bin/sh
# run-cross.sh - each cross-built qrwatch-probe under qemu-user, against the
# fixture portal on this machine: a healthy code must be OK, a removed page
# STALE. Ends with "N passed, N failed".
#
# Usage: sh tests/run-cross.sh BUILD-DIR ARCH...   (after make cross ARCH=...)
QRW_BUILD=${1:?usage: tests/run-cross.sh BUILD-DIR ARCH...}
shift
. "$(dirname "$0")/cli/lib.sh"
cd "$(dirname "$0")/.." || exit 2
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT INT TERM
"$QRW_BUILD/tests/portal" -p "$TMP/portal.port" >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -s "$TMP/portal.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
P=$(cat "$TMP/portal.port")
"$QRW_BUILD/qrwatch" encode -o "$TMP/ks.png" "http://portal.test:$P/dvc/khai-sinh" >/dev/null
{
printf '[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n[board b]\nplace = p\nlocation = Nhà văn hoá\n'
printf '\n[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/ks.png"
printf 'official_domains = portal.test\nallow_private = 127.0.0.1\nexpect_text = khai sinh\n'
printf '\n[target gone]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = %s\n' "$TMP/ks.png"
printf 'payload = http://portal.test:%s/dvc/khai-sinh\nofficial_domains = portal.test\n' "$P"
printf 'allow_private = 127.0.0.1\nexpect_text = khai tử\n'
} > "$TMP/c.catalog"
for a in "$@"; do
    case "$a" in arm64) q=qemu-aarch64 ;; armhf) q=qemu-arm ;; mipsel) q=qemu-mipsel ;; *) q=qemu-$a ;; esac
    bin="build/cross-$a/qrwatch-probe.stripped"
    if [ ! -x "$bin" ]; then
        fail "$a: cross-built probe" "no $bin: run make cross ARCH=$a"
        continue
    fi
    expect_contains "$a: it is a $a binary" "$(file -b "$bin" 2>/dev/null || echo unknown)" \
        "$(case $a in arm64) echo aarch64 ;; armhf) echo ARM ;; mipsel) echo MIPS ;; esac)"
    # the board decoder is a program of its own: qemu runs it too
    dec="$TMP/decode-$a"
    printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$q" "$PWD/build/sysroot-$a" \
        "$PWD/build/cross-$a/qrwatch-probe-decode.stripped" > "$dec"
    chmod +x "$dec"
    expect_run "$a: checks a healthy code under $q" 0 "$q" -L "build/sysroot-$a" "$bin" check \
        -c "$TMP/c.catalog" --resolve "portal.test:$P:127.0.0.1" -e --decoder "$dec" ks
    expect_contains "$a: verdict OK" "$OUT" "OK  "
    expect_run "$a: checks a stale code" 1 "$q" -L "build/sysroot-$a" "$bin" check \
        -c "$TMP/c.catalog" --resolve "portal.test:$P:127.0.0.1" -e --decoder "$dec" gone
    expect_contains "$a: verdict STALE" "$OUT" "STALE"
    size=$(wc -c < "$bin")
    dsize=$(wc -c < "build/cross-$a/qrwatch-probe-decode.stripped")
    echo "     ($a: $size bytes stripped, its decoder $dsize)"
done
finish
