#!/bin/sh
# bench/run.sh - the benchmarks behind docs/BENCHMARKS.md, each measured
# against a baseline in the same run (these machines are shared and noisy).
#
# Usage: sh bench/run.sh BUILD-DIR   (make bench)
#
# 1. QR decoding on the shared camera photos: our cascade against plain
#    zbarimg and ZXing-C++ alone (bench/zxing_read.cc, Debian's
#    libzxing-dev), scored by shared/qr-photos/score.sh (one process per
#    image), and timed over all photos in one process each, best of 5 runs.
set -eu
O=${1:-build}
cd "$(dirname "$0")/.."
PHOTOS=${QR_PHOTOS:-../shared/qr-photos}
OUT=docs/BENCHMARKS.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qrwatch-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
. bench/section.sh

if [ ! -x "$PHOTOS/score.sh" ]; then
    echo "bench: no photo set at '$PHOTOS' (set QR_PHOTOS)" >&2
    exit 1
fi
command -v zbarimg >/dev/null || { echo "bench: zbarimg not found (package zbar-tools)" >&2; exit 1; }
pkg-config --exists zxing || { echo "bench: ZXing-C++ not found (package libzxing-dev)" >&2; exit 1; }
# ZXing-C++ alone, with the project's image loader, printing ZXing's own text
c++ -std=c++17 -O2 -Wall -Wextra -Werror -o "$TMP/zxing_read" bench/zxing_read.cc \
    "$O/libqrwatch.a" $(pkg-config --cflags --libs zxing libpng libjpeg) -lm

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# best_ms RUNS COMMAND...: the fastest of RUNS wall-clock times, in ms
best_ms() {
    runs=$1; shift
    best=""
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(now_ms)
        "$@" > /dev/null 2>&1 || true
        t=$(( $(now_ms) - t0 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}

echo "== decoding: scoring (one process per image)"
sh "$PHOTOS/score.sh" -o "$TMP/zbar" 'zbarimg -q --raw {}' | tee "$TMP/zbar.txt"
sh "$PHOTOS/score.sh" -o "$TMP/zxing" "$TMP/zxing_read {}" | tee "$TMP/zxing.txt"
sh "$PHOTOS/score.sh" -o "$TMP/ours" "$O/qrwatch decode --raw {}" | tee "$TMP/ours.txt"

images=$(find "$PHOTOS" -mindepth 2 -name '*.png' -o -mindepth 2 -name '*.jpg' | sort)
n=$(printf '%s\n' "$images" | wc -l)
echo "== decoding: $n images in one process, best of 5"
# shellcheck disable=SC2086
zb_ms=$(best_ms 5 zbarimg -q --raw $images)
# shellcheck disable=SC2086
zx_ms=$(best_ms 5 "$TMP/zxing_read" $images)
# shellcheck disable=SC2086
our_ms=$(best_ms 5 "$O/qrwatch" decode --raw $images)
ratio=$(awk -v a="$our_ms" -v b="$zb_ms" 'BEGIN { printf "%.2f", a / b }')
zx_ratio=$(awk -v a="$zx_ms" -v b="$zb_ms" 'BEGIN { printf "%.2f", a / b }')
echo "zbarimg $zb_ms ms, ZXing-C++ $zx_ms ms (x$zx_ratio), qrwatch $our_ms ms, ratio $ratio"

# photos nothing reads: the same photos blurred out of reach (sigma 6 px),
# what a photo of a board with no code left on it costs every decoder
mkdir -p "$TMP/unread"
for f in $images; do
    /usr/bin/convert "$f" -colorspace gray -blur 0x6 \
        "$TMP/unread/$(basename "$(dirname "$f")")-$(basename "$f" | sed 's/\.[a-z]*$//').png"
done
blurred=$(find "$TMP/unread" -name '*.png' | sort)
# and board-sized: the 640x480 ones enlarged to 1600x1200 (a camera
# snapshot's size), as JPEG
mkdir -p "$TMP/unread-big"
for f in $(find "$TMP/unread" -name 'zxing-qrcode-1-*.png' | sort); do
    /usr/bin/convert "$f" -resize 1600x1200 -quality 90 "$TMP/unread-big/$(basename "$f" .png).jpg"
done
big=$(find "$TMP/unread-big" -name '*.jpg' | sort)
nbig=$(printf '%s\n' "$big" | wc -l)
# shellcheck disable=SC2086
blur_read=$("$O/qrwatch" decode --raw $blurred 2>/dev/null | grep -c . || true)
# shellcheck disable=SC2086
zb_un=$(best_ms 3 zbarimg -q --raw $blurred)
# shellcheck disable=SC2086
zx_un=$(best_ms 3 "$TMP/zxing_read" $blurred)
# shellcheck disable=SC2086
our_un=$(best_ms 3 "$O/qrwatch" decode --raw $blurred)
# shellcheck disable=SC2086
zb_big=$(best_ms 3 zbarimg -q --raw $big)
# shellcheck disable=SC2086
zx_big=$(best_ms 3 "$TMP/zxing_read" $big)
# shellcheck disable=SC2086
our_big=$(best_ms 3 "$O/qrwatch" decode --raw $big)
big_ratio=$(awk -v a="$our_big" -v b="$zb_big" 'BEGIN { printf "%.2f", a / b }')
zx_big_ratio=$(awk -v a="$zx_big" -v b="$zb_big" 'BEGIN { printf "%.2f", a / b }')
per_big() { awk -v a="$1" -v n="$nbig" 'BEGIN { printf "%.1f", a / n }'; }
un_ratio=$(awk -v a="$our_un" -v b="$zb_un" 'BEGIN { printf "%.2f", a / b }')
zx_un_ratio=$(awk -v a="$zx_un" -v b="$zb_un" 'BEGIN { printf "%.2f", a / b }')
echo "unreadable: zbarimg $zb_un ms, ZXing-C++ $zx_un ms, qrwatch $our_un ms ($blur_read read)"
echo "unreadable, 1600x1200: zbarimg $zb_big ms, ZXing-C++ $zx_big ms, qrwatch $our_big ms"

# which cascade step read each photo
# shellcheck disable=SC2086
"$O/qrwatch" decode $images > "$TMP/steps.txt" 2>/dev/null || true
steps=$(awk '/read by:/ { c[$3]++ } END { for (s in c) printf "%s %d\n", s, c[s] }' "$TMP/steps.txt" | sort -k2 -nr)

# what each step is worth: every step on its own, on every photo
# shellcheck disable=SC2086
"$O/qrwatch" decode --yield $images > "$TMP/yield.txt" 2>/dev/null || true
yields=$("$O/qrwatch" decode --help | sed -n 's/^The cascade, in order ([^)]*)://p' | tr ' ' '\n' |
    awk 'NF' | while read -r st; do
        alone=$(awk -F'\t' -v s="$st" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == s) c++ } END { print c + 0 }' "$TMP/yield.txt")
        only=$(awk -F'\t' -v s="$st" '$2 == s { c++ } END { print c + 0 }' "$TMP/yield.txt")
        echo "| $st | $alone | $only |"
    done)
unread=$(awk -F'\t' '$2 == "-"' "$TMP/yield.txt" | wc -l)

total_line() { awk '$1 == "TOTAL" { print $2, $3, $4, $5 }' "$1"; }
set -- $(total_line "$TMP/zbar.txt"); zb_ok=$1 zb_wrong=$2 zb_none=$3 zb_time=$4
set -- $(total_line "$TMP/zxing.txt"); zx_ok=$1 zx_wrong=$2 zx_none=$3 zx_time=$4
set -- $(total_line "$TMP/ours.txt"); our_ok=$1 our_wrong=$2 our_none=$3 our_time=$4
per_image() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.1f", a / n }'; }

# the head of the file (made if there is none), then this section in place
if [ ! -s "$OUT" ]; then
    printf '# Benchmarks\n\nWritten by `make bench` (bench/run.sh and the scripts it names); every\nfigure is measured against a baseline in the same run on the same machine,\nbecause these machines are shared and noisy: compare ratios, not absolute\ntimes.\n\nLast run:\n' > "$OUT"
fi
last="Last run: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -m), $(nproc) cores, $(zbarimg --version 2>/dev/null | head -n 1 | sed 's/^/zbar /'), ZXing-C++ $(pkg-config --modversion zxing)."
awk -v last="$last" '/^Last run:/ { print last; skip = 1; next } skip && /^$/ { skip = 0 } !skip { print }' "$OUT" > "$TMP/head" && cp "$TMP/head" "$OUT"
cat > "$TMP/decode.md" <<EOF2
## QR decoding on real camera photos

The set is \`shared/qr-photos\`: $n camera photos of printed QR codes
(blurred phone photos, hard exposure and self-shadow, codes on t-shirts,
dense version-40 codes without a quiet zone), each with its expected text.
Scored by \`shared/qr-photos/score.sh\`: *ok* is the exact expected text,
*wrong* is any other text, *none* is no output. ZXing-C++ alone is
Debian's library read through \`bench/zxing_read.cc\` (QR only, trying
harder, rotated, downscaled; its own charset guess).

| decoder | ok | wrong | none | time, one process per image |
|---|---|---|---|---|
| \`zbarimg -q --raw\` (baseline) | $zb_ok | $zb_wrong | $zb_none | $zb_time |
| ZXing-C++ alone | $zx_ok | $zx_wrong | $zx_none | $zx_time |
| \`qrwatch decode --raw\` | $our_ok | $our_wrong | $our_none | $our_time |

All $n photos in one process each, best of 5 runs:

| decoder | wall time | per image | ratio to zbarimg |
|---|---|---|---|
| \`zbarimg -q --raw\` | $zb_ms ms | $(per_image "$zb_ms") ms | 1.00 |
| ZXing-C++ alone | $zx_ms ms | $(per_image "$zx_ms") ms | $zx_ratio |
| \`qrwatch decode --raw\` | $our_ms ms | $(per_image "$our_ms") ms | $ratio |

The qrwatch figure includes what zbarimg does not do: each image is
decoded in a forked child under memory and CPU limits (targets/guard.c),
and photos that do not read as they are go through further cascade steps,
ZXing-C++, then the bent-grid resampling last (docs/decoding.md). The target is at most 3x zbarimg's time.

Photos nothing reads (the same $n photos blurred with a sigma of 6 px,
so that no code is left to read: $blur_read texts came out of qrwatch), in
one process each, best of 3:

| decoder | wall time | per image | ratio to zbarimg |
|---|---|---|---|
| \`zbarimg -q --raw\` | $zb_un ms | $(per_image "$zb_un") ms | 1.00 |
| ZXing-C++ alone | $zx_un ms | $(per_image "$zx_un") ms | $zx_un_ratio |
| \`qrwatch decode --raw\` | $our_un ms | $(per_image "$our_un") ms | $un_ratio |

The $nbig photos of 640x480 among them enlarged to 1600x1200 (a camera
snapshot's size), JPEG, best of 3:

| decoder | wall time | per image | ratio to zbarimg |
|---|---|---|---|
| \`zbarimg -q --raw\` | $zb_big ms | $(per_big "$zb_big") ms | 1.00 |
| ZXing-C++ alone | $zx_big ms | $(per_big "$zx_big") ms | $zx_big_ratio |
| \`qrwatch decode --raw\` | $our_big ms | $(per_big "$our_big") ms | $big_ratio |

On such a photo every step runs, so the cascade costs the sum of its
steps; the largest is \`enlarged-sharpened\`, ZBar on four times the
pixels. ZBar and ZXing-C++ give up on a blurred photo sooner than on a
sharp one.

Cascade step that read each photo:

| step | photos |
|---|---|
$(printf '%s\n' "$steps" | awk 'NF == 2 { printf "| %s | %s |\n", $1, $2 }')

What each step is worth (\`qrwatch decode --yield\`: every step on its
own, on every photo; $unread photos read by none):

| step | photos it reads on its own | photos only it reads |
|---|---|---|
$yields

\`inverted\` reads none of these photos and stays: it alone reads a light
code on a dark board (the unit test \`decode.jpeg_and_inverted\`), which
ZXing-C++ 1.4 does not try. \`halved\` (2x2 averaging of photos of
800 px and more) was a step until this table showed it reading nothing:
it is gone. \`regridded\` runs last in the cascade (on every photo, for
codes the others missed), and on its own it reads more than any other
step.
EOF2
put_section "$OUT" "$TMP/decode.md"
