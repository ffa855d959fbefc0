#!/bin/sh
# test_install.sh - `make install`: programs, man pages that render without
# warnings, systemd units that systemd-analyze accepts, with the sandboxing
# they promise, and the system users.
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
case "$QRW_BUILD" in /*) B="$QRW_BUILD" ;; *) B="$ROOT/$QRW_BUILD" ;; esac
PFX="$TMP/usr/local"

# PREFIX inside TMP, so the units name programs that exist
expect_run "make install" 0 make -C "$ROOT" --no-print-directory O="$B" PREFIX="$PFX" install
for f in bin/qrwatch bin/qrwatch-probe bin/qrwatchd share/man/man1/qrwatch.1 \
         share/man/man8/qrwatch-probe.8 share/man/man8/qrwatchd.8 \
         lib/systemd/system/qrwatchd.service lib/systemd/system/qrwatch-probe.service \
         lib/sysusers.d/qrwatch.conf share/doc/qrwatch/qrwatchd.conf.sample \
         share/doc/qrwatch/probe.conf.sample share/doc/qrwatch/prometheus/prometheus.yml \
         share/doc/qrwatch/prometheus/qrwatch-rules.yml share/doc/qrwatch/prometheus/qrwatch-alerts.yml \
         share/doc/qrwatch/prometheus/qrwatch-provinces.yml; do
    expect_eq "installed $f" "$([ -s "$PFX/$f" ] && echo yes)" "yes"
done
expect_eq "programs are executable" "$([ -x "$PFX/bin/qrwatchd" ] && [ -x "$PFX/bin/qrwatch-probe" ] && echo yes)" "yes"
# the netem script, beside the probe whose profiles it reads
expect_eq "qrwatch-netem installed, executable" "$([ -x "$PFX/bin/qrwatch-netem" ] && echo yes)" "yes"
"$PFX/bin/qrwatch-netem" --help > "$TMP/help" 2>&1
expect_contains "the installed qrwatch-netem runs" "$(cat "$TMP/help")" "usage: qrwatch-netem"
"$PFX/bin/qrwatchd" --help > "$TMP/help" 2>&1
expect_contains "the installed qrwatchd runs" "$(cat "$TMP/help")" "usage: qrwatchd"

if command -v groff >/dev/null; then
    for m in man1/qrwatch.1 man8/qrwatch-probe.8 man8/qrwatchd.8; do
        expect_eq "man page $m renders without warnings" \
            "$(groff -man -Tutf8 -ww -z "$PFX/share/man/$m" 2>&1)" ""
    done
    expect_contains "qrwatchd(8) says what it is" \
        "$(groff -man -Tutf8 "$PFX/share/man/man8/qrwatchd.8" 2>/dev/null | sed 's/.\x08//g')" "the qrwatch district server"
else
    fail "man pages render" "groff is not installed (.ci/deps installs groff-base)"
fi

U="$PFX/lib/systemd/system"
for u in qrwatchd qrwatch-probe; do
    expect_contains "$u.service names the installed program" "$(cat "$U/$u.service")" "ExecStart=$PFX/bin/$u"
    for k in NoNewPrivileges=yes ProtectSystem=strict StateDirectory= "User=$( [ $u = qrwatchd ] && echo qrwatch || echo qrwatch-probe)" CapabilityBoundingSet=; do
        expect_contains "$u.service: $k" "$(cat "$U/$u.service")" "$k"
    done
done
if command -v systemd-analyze >/dev/null; then
    # the users may not exist here: only those notes are allowed
    for u in qrwatchd qrwatch-probe; do
        out=$(MANPATH="$PFX/share/man" systemd-analyze verify "$U/$u.service" 2>&1 | grep -v -e "User=" -e "Group=" -e "^$" || true)
        expect_eq "systemd-analyze verify $u.service" "$out" ""
    done
else
    fail "systemd-analyze verify" "systemd is not installed (.ci/deps installs it)"
fi
expect_contains "sysusers: the server's user" "$(cat "$PFX/lib/sysusers.d/qrwatch.conf")" "u qrwatch "
expect_contains "sysusers: the probe's user" "$(cat "$PFX/lib/sysusers.d/qrwatch.conf")" "u qrwatch-probe "
finish
