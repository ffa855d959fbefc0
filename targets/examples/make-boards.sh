#!/bin/sh
# make-boards.sh - regenerate the example board images in boards/ from the catalog.
#
# Usage: sh targets/examples/make-boards.sh [BUILD-DIR]   (from the project root)
#
# Genuine boards get the catalog's own payload as a code (qrwatch encode:
# qrwatch poster prints only a link it has checked working, and these are
# the portals' real addresses).
# Thôn Đoài's boards show the field's problems: a fake sticker pointing at a
# look-alike domain, a fee code paying another account, and a board whose
# code has been torn off (a plain grey photo). Needs python3 for the last.
set -eu
O=${1:-build}
Q="$O/qrwatch"
C=targets/examples/xa-tan-an.catalog
D=targets/examples/boards
mkdir -p "$D"
for t in ks-thon-dong kt-thon-dong kh-mot-cua ct-mot-cua xn-hon-nhan-mot-cua le-phi-mot-cua; do
    payload=$(awk -v t="[target $t]" '$0 == t { f = 1; next } /^\[/ { f = 0 }
        f && $1 == "payload" { sub(/^payload *= */, ""); print; exit }' "$C")
    "$Q" encode -s 6 -o "$D/$t.png" "$payload" >/dev/null
done
"$Q" encode -s 6 -o "$D/ks-thon-doai.png" \
    'https://dichvucong-gov.vn.khaisinh-online.com/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193'
"$Q" encode -s 6 -o "$D/le-phi-thon-doai.png" \
    '00020101021138540010A00000072701240006970422011009876543210208QRIBFTTA53037045802VN5914UBND XA TAN AN62210817LE PHI CHUNG THUC63041EEA'
python3 - "$D/kt-thon-doai.png" <<'PY'
import struct, sys, zlib
w, h = 480, 360
rows = b''.join(b'\0' + bytes(200 - (abs(x - 240) + abs(y - 180)) // 8 for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')
open(sys.argv[1], 'wb').write(png)
PY
echo "board images written to $D"
