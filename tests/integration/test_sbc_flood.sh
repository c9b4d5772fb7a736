#!/usr/bin/env bash
#
# test_sbc_flood.sh: the SBC's security guard under a flood, brute force,
# the allow-list level and a scanner
#
# SBC (relaisd, sbc_mode standard): public 127.0.20.1:5063 (tls+udp/tcp),
# private 127.0.30.1:5064, in front of a PBX relaisd on 127.0.40.1:5060
# (extensions 100, 101; 101 is a sipp UAS on 127.0.40.2). Security set
# with relaisctl: level auto, DoS threshold 50 requests in 2 s, period
# 30 s.
#  1. Flood: sipp on 127.0.10.66 sends FLOOD_N OPTIONS (1000) at 200/s;
#     meanwhile 100 on 127.0.10.5 registers and calls 101 through the SBC
#     (both succeed). The flooder lands on `relaisctl sbc security deny
#     list`, gets fewer answers than requests, then none at all (an
#     OPTIONS times out, and tshark sees nothing from the SBC to it);
#     event 12292 logged; the status counts dropped requests.
#  2. Brute force: REGISTERs with a wrong password from 127.0.10.77 until
#     it is denied with reason brute force (event 12290); `deny remove`
#     takes it off and it is answered again.
#  3. Level allow-list with 127.0.10.5 allowed: 127.0.10.9 gets no answer,
#     127.0.10.5 does.
#  4. Level none: an OPTIONS with User-Agent friendly-scanner from
#     127.0.10.13 gets no answer and puts it on the list as malicious.
#  5. The flooder comes off the list after its 30 s (bounded wait) and is
#     answered again; `deny clear` empties the list.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'
DOM=sbc.relais.test
FLOOD_N=${FLOOD_N:-1000}

GOOD_IP=127.0.10.5
FLOOD_IP=127.0.10.66
BRUTE_IP=127.0.10.77
OTHER_IP=127.0.10.9
SCAN_IP=127.0.10.13
SBC_PUB=127.0.20.1
SBC_PRIV=127.0.30.1
PBX_IP=127.0.40.1
LAN_IP=127.0.40.2
port_pref PBX_PORT 5060 || die "no free port"
port_pref SBC_PORT 5063 || die "no free port"
port_pref PRIV_PORT 5064 || die "no free port"

free_range 400 SBC_RTP_MIN SBC_RTP_MAX || die "no free RTP range"
free_range 40 PBX_RTP_MIN PBX_RTP_MAX || die "no free RTP range"
sbc_pbx_off
node_start pbx \
	"sip_udp_listen = $PBX_IP:$PBX_PORT" \
	"sip_tcp_listen = $PBX_IP:$PBX_PORT" \
	"media_address = $PBX_IP" \
	"rtp_port_min = $PBX_RTP_MIN" "rtp_port_max = $PBX_RTP_MAX"
nctl pbx extension add 100 --name "Remote 100" --password "$PW100" \
	>/dev/null || die "relaisctl extension add 100"
nctl pbx extension add 101 --name "Desk 101" --password "$PW101" \
	>/dev/null || die "relaisctl extension add 101"
node_start sbc \
	"sbc_mode = standard" \
	"sbc_public_interface = $SBC_PUB" \
	"sbc_public_transports = tls+udp/tcp" \
	"sbc_public_port = $SBC_PORT" \
	"sbc_private_interface = $SBC_PRIV" \
	"sbc_private_transports = udp/tcp" \
	"sbc_private_port = $PRIV_PORT" \
	"sbc_pbx = $PBX_IP:$PBX_PORT" \
	"sbc_pbx_transport = udp" \
	"sbc_rtp_port_min = $SBC_RTP_MIN" "sbc_rtp_port_max = $SBC_RTP_MAX" \
	"${SBC_PBX_OFF[@]}"

# sec ARGS...: relaisctl sbc security ARGS on the SBC
sec()
{
	nctl sbc sbc security "$@" >>"$WORKDIR/sec.out" 2>&1
}

# level NAME: set the security level
level()
{
	if sec level "$1"; then
		pass "relaisctl sbc security level $1"
	else
		fail "relaisctl sbc security level $1"
		tail -n 3 "$WORKDIR/sec.out"
	fi
}

probe()
{
	sip_probe "$1" "$SBC_PUB" "$SBC_PORT" "${2:-2}" "${3:-relais-tests}"
}

answered()
{
	[ "$(probe "$1" 1)" != none ]
}

log_lines()
{
	wc -l <"$(node_log sbc)"
}

# log_since LINE PATTERN: the SBC logged PATTERN after line LINE
log_since()
{
	# not grep -q: with pipefail, tail killed by SIGPIPE fails the check
	tail -n +"$(($1 + 1))" "$(node_log sbc)" | grep -E "$2" >/dev/null
}

finished()
{
	if sipp_wait "$2"; then
		pass "$1: sipp scenario completed"
	else
		fail "$1: sipp scenario failed"
		sipp_show "$1"
	fi
}

if sec set --dos-threshold 50 --dos-window 2 --dos-period 30s; then
	pass "relaisctl sbc security set: DoS 50 requests in 2 s, 30 s"
else
	fail "relaisctl sbc security set (DoS settings)"
	cat "$WORKDIR/sec.out"
fi
level auto
sbc_json sbc status >"$WORKDIR/status0.json" 2>&1
check "relaisctl sbc status --json answers" \
	json_query 'j' <"$WORKDIR/status0.json" >/dev/null
expect_eq "relaisctl sbc status: level auto" auto \
	"$(json_query "j['level']" <"$WORKDIR/status0.json" 2>/dev/null)"
check "a source not yet seen is answered" answered "$OTHER_IP"

free_port P100
free_port P101
free_port PFLOOD
free_port PBRUTE
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END
users_csv "$WORKDIR/u100.csv" 100 "$PW100"
users_csv "$WORKDIR/u101.csv" 101 "$PW101"
users_csv "$WORKDIR/bad.csv" 100 'Wrong-Password-1'

if sipp_run reg101 reg_ok "$PBX_IP:$PBX_PORT" -i "$LAN_IP" -p "$P101" \
	-m 1 -inf "$WORKDIR/u101.csv" -set expires 600 \
	-recv_timeout 5000 -timeout 20; then
	pass "101 registered at the PBX"
else
	sipp_show reg101
	fail "101 could not register at the PBX"
fi

# ==== 1. flood ================================================================
echo "# 1. $FLOOD_N OPTIONS at 200/s from $FLOOD_IP"
capture_start flood "host $FLOOD_IP" || fail "tshark did not start"
FLOOD_CAPTURE=$CAPTURE_PID
L0=$(log_lines)
sipp_bg flood sbc_options "$SBC_PUB:$SBC_PORT" -i "$FLOOD_IP" -p "$PFLOOD" \
	-r 200 -m "$FLOOD_N" -recv_timeout 1000 -timeout 40
FLOOD_PID=$SIPP_PID

# the legitimate phone, during the flood
sipp_bg_again call_b uas_answer -i "$LAN_IP" -p "$P101" -m 1 \
	-mi "$LAN_IP" -mp "$MPB" -rtp_echo
CALLEE_PID=$SIPP_PID
if sipp_run reg100 sbc_reg "$SBC_PUB:$SBC_PORT" -i "$GOOD_IP" -p "$P100" \
	-m 1 -inf "$WORKDIR/u100.csv" -set expires 600 -set dom "$DOM" \
	-auth_uri "$DOM" -recv_timeout 5000 -timeout 20; then
	pass "100 on $GOOD_IP registered through the SBC during the flood"
else
	sipp_show reg100
	fail "100 could not register during the flood"
fi
flooding()
{
	kill -0 "$FLOOD_PID" 2>/dev/null
}
check "the flood is still going on when the call starts" flooding
sipp_bg call sbc_uac_call "$SBC_PUB:$SBC_PORT" -i "$GOOD_IP" -p "$P100" \
	-m 1 -s 101 -inf "$WORKDIR/u100.csv" -set dom "$DOM" -auth_uri "101@$DOM" \
	-mi "$GOOD_IP" -mp "$MPA" -d 1000 -recv_timeout 10000
CALLER_PID=$SIPP_PID
if wait_for 50 0.1 sbc_denied sbc "$FLOOD_IP"; then
	pass "$FLOOD_IP is on the deny-list"
else
	fail "$FLOOD_IP is not on the deny-list"
fi
finished call "$CALLER_PID"
finished call_b "$CALLEE_PID"
sipp_wait "$FLOOD_PID"
answers=$(grep -c "^SIP/2.0 [2-6][0-9][0-9]" "$WORKDIR/flood.msg" 2>/dev/null)
echo "     the flooder got ${answers:-0} answers to $FLOOD_N OPTIONS"
check "the flooder got fewer answers than requests" \
	test "${answers:-0}" -lt $((FLOOD_N / 2))
check "event 12292 (too many requests) logged" log_since "$L0" "event 12292"
sbc_denied sbc "$FLOOD_IP" dos ||
	fail "$FLOOD_IP listed, but not with reason dos"
n=$(sbc_counter sbc dropped_denied)
check "relaisctl sbc status counts dropped requests ($n)" test "$n" -gt 0

# now nothing at all comes back
t_denied=$(date +%s)
sleep 1.5 # the last answers in flight
kill_pid "$FLOOD_CAPTURE"
capture_start flood2 "host $FLOOD_IP" || fail "tshark did not start"
expect_eq "an OPTIONS from the denied source times out" none \
	"$(probe "$FLOOD_IP" 2)"
expect_eq "a second one too" none "$(probe "$FLOOD_IP" 1)"
capture_stop
capture_flows flood2
n=$(flows_count flood2 "${FLOOD_IP//./\\.}" "${SBC_PUB//./\\.}")
check "tshark saw the probes reach the SBC ($n)" test "$n" -ge 2
n=$(flows_count flood2 "${SBC_PUB//./\\.}" "${FLOOD_IP//./\\.}")
expect_eq "tshark saw no packet from the SBC to the denied source" 0 "$n"
check "the well-behaved source is still answered" answered "$GOOD_IP"

# ==== 2. brute force ============================================================
echo "# 2. wrong passwords from $BRUTE_IP"
L0=$(log_lines)
SIPP_TIMEOUT=90 sipp_run brute sbc_reg_wrong "$SBC_PUB:$SBC_PORT" \
	-i "$BRUTE_IP" -p "$PBRUTE" -m 20 -r 5 -inf "$WORKDIR/bad.csv" \
	-set dom "$DOM" -auth_uri "$DOM" -recv_timeout 2000 -timeout 60
n=$(grep -c "^refused 100" "$WORKDIR/brute.log" 2>/dev/null)
echo "     $n REGISTERs refused with a wrong password before the denial"
check "the wrong passwords were refused (401/403 passed back)" \
	test "${n:-0}" -ge 3
if wait_for 50 0.1 sbc_denied sbc "$BRUTE_IP" brute; then
	pass "$BRUTE_IP is on the deny-list with reason brute force"
else
	fail "$BRUTE_IP is not on the deny-list as brute force"
	sbc_json sbc security deny list 2>&1 | head -n 20
fi
check "fewer than 20 attempts were answered" test "${n:-0}" -lt 20
check "event 12290 (brute force) logged" log_since "$L0" "event 12290"
expect_eq "the brute-force source gets no answer" none "$(probe "$BRUTE_IP" 1)"
if sec deny remove "$BRUTE_IP"; then
	pass "relaisctl sbc security deny remove $BRUTE_IP"
else
	fail "relaisctl sbc security deny remove $BRUTE_IP"
fi
check "$BRUTE_IP is off the list" sbc_not_denied sbc "$BRUTE_IP"
check "$BRUTE_IP is answered again" wait_for 5 0.5 answered "$BRUTE_IP"

# ==== 3. allow-list only =======================================================
echo "# 3. level allowlist, $GOOD_IP allowed"
if sec allow add "$GOOD_IP"; then
	pass "relaisctl sbc security allow add $GOOD_IP"
else
	fail "relaisctl sbc security allow add $GOOD_IP"
fi
sec allow add 0.0.0.0 && fail "allow add 0.0.0.0 accepted"
sec allow add 10.1.2.300 && fail "allow add 10.1.2.300 accepted"
level allowlist
expect_eq "$OTHER_IP (not allowed) gets no answer" none "$(probe "$OTHER_IP" 2)"
check "$GOOD_IP (allowed) is answered" answered "$GOOD_IP"
check "$OTHER_IP was not put on the deny-list for it" \
	sbc_not_denied sbc "$OTHER_IP"
n=$(sbc_counter sbc dropped_not_allowed)
check "relaisctl sbc status counts requests not allowed ($n)" test "$n" -gt 0
level auto
check "at level auto $OTHER_IP is answered again" answered "$OTHER_IP"

# ==== 4. scanner, level none ====================================================
echo "# 4. level none, User-Agent friendly-scanner from $SCAN_IP"
level none
L0=$(log_lines)
expect_eq "the scanner's OPTIONS gets no answer" none \
	"$(probe "$SCAN_IP" 2 friendly-scanner)"
if wait_for 20 0.1 sbc_denied sbc "$SCAN_IP" malicious; then
	pass "$SCAN_IP is denied as malicious, even at level none"
else
	fail "$SCAN_IP is not on the deny-list as malicious"
fi
expect_eq "the scanner gets no answer afterwards either" none \
	"$(probe "$SCAN_IP" 1)"
level auto

# ==== 5. expiry of the flooder's entry, deny clear =============================
echo "# 5. $FLOOD_IP's 30 s run out"
# denied at t_denied or a little earlier: at most 30 s + 20 s of margin
left=$((t_denied + 50 - $(date +%s)))
[ "$left" -lt 5 ] && left=5
if wait_for $((left * 2)) 0.5 sbc_not_denied sbc "$FLOOD_IP"; then
	pass "$FLOOD_IP came off the deny-list after its period"
else
	fail "$FLOOD_IP still on the deny-list $(($(date +%s) - t_denied)) s after"
fi
check "$FLOOD_IP is answered again" wait_for 5 0.5 answered "$FLOOD_IP"

sec deny list >/dev/null || fail "relaisctl sbc security deny list"
if sec deny clear; then
	pass "relaisctl sbc security deny clear"
else
	fail "relaisctl sbc security deny clear"
fi
n=$(sbc_json sbc security deny list 2>/dev/null | json_query 'len(j)')
expect_eq "the deny-list is empty" 0 "$n"
check "$SCAN_IP (with a plain User-Agent) is answered again" \
	answered "$SCAN_IP"

check "SBC still running" node_alive sbc
check "PBX still running" node_alive pbx
if [ "$TESTS_FAILED" -ne 0 ]; then
	echo "---- relaisctl output"
	tail -n 30 "$WORKDIR/sec.out" | sed 's/^/    /'
	nodes_show sbc pbx
fi
finish
