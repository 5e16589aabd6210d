#!/usr/bin/env bash
# `make install` layout (scripts/install.sh into a DESTDIR) and the BSD-style
# rc script driving the installed vmd through its pid file:
# start/status/reload/stop, and check with a bad configuration.
. "$VMD_TOP/tests/lib.sh"

[ -x "$VMD_BUILD/vmd" ] && [ -x "$VMD_BUILD/vmctl" ] || { skip all "vmd/vmctl not built"; exit 0; }
D=$T_TMP/dest P=/opt/vmd
"$VMD_TOP/scripts/install.sh" "$D" "$P" "$VMD_BUILD" >"$T_TMP/install.log" 2>&1
check install_runs test $? = 0
for f in sbin/vmd bin/vmctl share/man/man8/vmd.8 share/man/man8/vmctl.8 share/man/man5/vmd.conf.5 \
	 share/examples/vmd/vmd.conf share/vmd/rc.d/vmd share/vmd/rc.d/vmd.service share/doc/vmd/PROTOCOL.md; do
	check "installed_${f//\//_}" test -s "$D$P/$f"
done
check rc_script_executable test -x "$D$P/share/vmd/rc.d/vmd"
check rc_paths_substituted grep -q "^vmd_bin=\${vmd_bin:-$P/sbin/vmd}" "$D$P/share/vmd/rc.d/vmd"
check unit_paths_substituted grep -q "^ExecStart=$P/sbin/vmd -d" "$D$P/share/vmd/rc.d/vmd.service"
check example_config_valid bash -c "'$D$P/sbin/vmd' -n -f '$D$P/share/examples/vmd/vmd.conf' >/dev/null"
check man_vmd_renders bash -c "man -l '$D$P/share/man/man8/vmd.8' 2>/dev/null | grep -q 'headless virtual machine daemon'"

# The rc script, with the installed binary and a private socket and pid file.
RC=$D$P/share/vmd/rc.d/vmd
SOCK=$T_TMP/vmd.sock
printf 'vm "a" { memory 32M; kernel "/nonexistent" }\n' >"$T_TMP/vmd.conf"
export vmd_bin=$D$P/sbin/vmd vmd_pidfile=$T_TMP/vmd.pid vmd_config=$T_TMP/vmd.conf \
	vmd_flags="-s $SOCK" vmd_stop_timeout=10
out=$("$RC" start 2>&1); check rc_start test $? = 0
pid=$(cat "$T_TMP/vmd.pid" 2>/dev/null)
[ -n "$pid" ] && T_PIDS+=("$pid")
check rc_pidfile_written test -n "$pid"
check rc_daemon_answers bash -c "'$VMD_BUILD/vmctl' -s '$SOCK' info >/dev/null"
out=$("$RC" status); check rc_status_running test "$out" = "vmd is running (pid $pid)"
out=$("$RC" start); check rc_start_twice grep -q "already running" <<<"$out"
printf 'vm "b" { memory 32M; kernel "/nonexistent" }\n' >>"$T_TMP/vmd.conf"
"$RC" reload; check rc_reload wait_for 5 bash -c "'$VMD_BUILD/vmctl' -s '$SOCK' status b >/dev/null"
printf 'vm "c" { memory lots }\n' >>"$T_TMP/vmd.conf"
out=$("$RC" reload 2>&1); rc=$?
check rc_reload_refuses_bad_config test "$rc" = 1
check rc_reload_bad_config_line grep -q 'vmd.conf:3: bad memory size "lots"' <<<"$out"
out=$("$RC" stop); check rc_stop test $? = 0
check rc_stopped bash -c "! kill -0 $pid 2>/dev/null"
check rc_pidfile_removed test ! -e "$T_TMP/vmd.pid"
out=$("$RC" status); rc=$?
check rc_status_stopped test "$rc:$out" = "3:vmd is not running"
"$RC" bogus >/dev/null 2>&1; check rc_usage test $? = 2
