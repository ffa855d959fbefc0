#!/bin/sh
# demo.sh - what `make demo` shows until the probe and the server land: the
# example commune's catalog checked, every board photo decoded, and each
# board's verdict with its plain explanation.
set -eu
O=${1:-build}
CAT=targets/examples/xa-tan-an.catalog

cat <<'TXT'
qrwatch demo: the posted QR codes of Xã Tân An (example catalog)

1. Checking the catalog (qrwatch lint):
TXT
"$O/qrwatch" lint "$CAT"
cat <<'TXT'

2. Reading every board photo and judging its code against the catalog
   (qrwatch decode --all). Thôn Đoài's lane board shows what the field
   reports: a fake sticker, a swapped fee account, and a torn-off code.

TXT
status=0
"$O/qrwatch" decode --catalog "$CAT" --all || status=$?
echo
echo "Summary:"
"$O/qrwatch" decode --catalog "$CAT" --all --english 2>/dev/null |
    awk '/\(target / { t = $2; sub(/\)$/, "", $3); id = $3 } /verdict:/ { printf "  %-22s %s\n", id, $2 }'
echo
echo "A replacement for a bad board:  $O/qrwatch poster -c $CAT ks-thon-doai -o ks-thon-doai.svg"
# 1 means "some board needs attention", which is what the demo shows; anything else is an error.
[ "$status" -le 1 ]
