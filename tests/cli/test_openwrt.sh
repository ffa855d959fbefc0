#!/bin/sh
# test_openwrt.sh - the OpenWrt package: its init script renders the UCI
# sample into a probe.conf that `qrwatch-probe run -t` accepts, and the
# package files are in place.
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROBE="$QRW_BUILD/qrwatch-probe"
W="$ROOT/prober/openwrt"

for f in Makefile files/qrwatch.init files/qrwatch.config; do
    expect_eq "package file $f" "$([ -s "$W/$f" ] && echo yes)" "yes"
done
expect_contains "package builds only the probe" "$(cat "$W/Makefile")" 'build/qrwatch-probe'
expect_contains "init script uses procd" "$(cat "$W/files/qrwatch.init")" "USE_PROCD=1"
expect_contains "init script limits respawns" "$(cat "$W/files/qrwatch.init")" "procd_set_param respawn 3600 5 5"
expect_run "init script is valid sh" 0 sh -n "$W/files/qrwatch.init"

# the UCI sample, pointed at files this test makes
mkdir -p "$TMP/config" "$TMP/var"
printf 'a-probe-secret-of-enough-length\n' > "$TMP/secret"
sed -e "s|/etc/qrwatch/probe.secret|$TMP/secret|" \
    -e "s|/var/lib/qrwatch/spool|$TMP/var/spool|" \
    -e "s|option enabled '0'|option enabled '1'|" \
    "$W/files/qrwatch.config" > "$TMP/config/qrwatch"
printf "\toption catalog '%s'\n" "$ROOT/targets/examples/xa-tan-an.catalog" >> "$TMP/config/qrwatch"
(
    UCI_CONFIG_DIR="$TMP/config"
    . "$ROOT/tests/fixture/openwrt-shim.sh"
    # the init script's functions, without /etc/rc.common running it
    . "$W/files/qrwatch.init"
    qrwatch_render "$TMP/probe.conf"
)
CONF=$(cat "$TMP/probe.conf")
expect_contains "rendered: the probe id" "$CONF" "probe_id = tan-an-thon-dong"
expect_contains "rendered: the server" "$CONF" "server = https://qrwatch.huyen.example.gov.vn/api/v1/ingest"
expect_contains "rendered: the uplink" "$CONF" "uplink = 4g"
expect_contains "rendered: to syslog" "$CONF" "log = syslog"
case "$CONF" in *interface*) fail "a commented-out option stays out" "$CONF" ;; *) pass "a commented-out option stays out" ;; esac
expect_run "qrwatch-probe run -t accepts the rendered config" 0 "$PROBE" run -t -c "$TMP/probe.conf"
# a broken UCI value is caught by the same check before procd starts anything
sed -i "s|option uplink '4g'|option uplink 'pigeon'|" "$TMP/config/qrwatch"
(
    UCI_CONFIG_DIR="$TMP/config"
    . "$ROOT/tests/fixture/openwrt-shim.sh"
    . "$W/files/qrwatch.init"
    qrwatch_render "$TMP/probe.conf"
)
expect_run "a bad uplink is refused" 2 "$PROBE" run -t -c "$TMP/probe.conf"
expect_contains "and named" "$ERR" "uplink"
finish
