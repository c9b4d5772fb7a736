#!/usr/bin/env bash
#
# test_sipp_call.sh: calls through relaisd between two sipp endpoints
#
# 101 registers from a sipp client, then a sipp UAS answers on that port;
# 100 calls from a sipp UAC (407 then Proxy-Authorization). Checked: the
# SDP each side receives points at relaisd's relay ports, never at the
# other side; RTP flows caller -> relaisd -> callee and back (tshark on
# lo); caller BYE, callee BYE, CANCEL before answer (487), 486 relayed,
# 404 for an unknown number, 480 for an extension not registered; the call
# records of `relaisctl --json cdr` carry the matching dispositions.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'
PW102='Amber3-Finch-Wy'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"
ext_add 102 "$PW102" || die "relaisctl extension add 102"

free_port P101
free_port PCALLER # the caller's SIP port (sipp would take 5060 if free)
free_range 4 MPA MPA_END # caller media (sipp binds port and port + 2)
free_range 4 MPB MPB_END # callee media
users_csv "$WORKDIR/caller.csv" 100 "$PW100"

if sipp_register reg101 101 "$PW101" "$P101" 600; then
	pass "101 registered from 127.0.0.1:$P101"
else
	sipp_show reg101
	die "101 could not register"
fi

# the UAS on the registered port is listening
uas_ready()
{
	[ -n "$(ss -Hlnu "( sport = :$P101 )")" ]
}

# callee NAME SCENARIO [ARGS]: sipp UAS as 101 in the background
callee()
{
	local name=$1 scen=$2
	shift 2
	sipp_bg "$name" "$scen" -i 127.0.0.1 -p "$P101" -m 1 \
		-mi 127.0.0.1 -mp "$MPB" -rtp_echo "$@"
	CALLEE_PID=$SIPP_PID
	wait_for 50 0.1 uas_ready || fail "$name: sipp UAS not listening"
}

# caller NAME SCENARIO NUMBER [ARGS]: sipp UAC as 100, in the background
caller()
{
	local name=$1 scen=$2 number=$3
	shift 3
	sipp_bg "$name" "$scen" 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
		-p "$PCALLER" -m 1 -s "$number" -inf "$WORKDIR/caller.csv" \
		-mi 127.0.0.1 -mp "$MPA" -cid_str "$name-%u-%p@%s" \
		-auth_uri "$number@127.0.0.1:$RELAIS_SIP_PORT" \
		-recv_timeout 10000 "$@"
	CALLER_PID=$SIPP_PID
}

# finished NAME PID: wait for a sipp, pass/fail on its exit status
finished()
{
	if sipp_wait "$2"; then
		pass "$1: sipp scenario completed"
	else
		fail "$1: sipp scenario failed"
		sipp_show "$1"
	fi
}

# sdp_port NAME WHO: the m=audio port a side logged ("WHO-sdp c=.. m=..")
sdp_port()
{
	sed -n "s/^$2-sdp .* m=audio \([0-9]*\).*/\1/p" \
		"$WORKDIR/$1.log" 2>/dev/null | head -n 1
}

sdp_addr()
{
	sed -n "s/^$2-sdp c=IN IP4 \([0-9.]*\) .*/\1/p" \
		"$WORKDIR/$1.log" 2>/dev/null | head -n 1
}

in_rtp_range()
{
	[ -n "$1" ] && [ "$1" -ge "$RELAIS_RTP_MIN" ] &&
		[ "$1" -le "$RELAIS_RTP_MAX" ]
}

active_calls()
{
	ctl --json calls --active | json_query "len(j)"
}

has_active_call()
{
	[ "$(active_calls)" -ge 1 ] 2>/dev/null
}

no_active_call()
{
	[ "$(active_calls)" = 0 ]
}

# ---- 1. answered call, RTP both ways, caller hangs up --------------------
capture_start rtp "udp and (port $MPA or port $MPB)" ||
	fail "tshark did not start capturing"
callee answer_b uas_answer
caller answer uac_call 101 -d 3000
if wait_for 50 0.1 has_active_call; then
	pass "relaisctl calls --active shows the call"
else
	fail "relaisctl calls --active shows the call"
fi
finished answer "$CALLER_PID"
finished answer_b "$CALLEE_PID"
capture_stop

pb=$(sdp_port answer_b callee)
pa=$(sdp_port answer caller)
check "callee's SDP port $pb is a relaisd relay port" in_rtp_range "$pb"
check "caller's SDP port $pa is a relaisd relay port" in_rtp_range "$pa"
check "callee's SDP does not carry the caller's port $MPA" \
	test "$pb" != "$MPA"
check "caller's SDP does not carry the callee's port $MPB" \
	test "$pa" != "$MPB"
expect_eq "callee's SDP c= is relaisd's media address" 127.0.0.1 \
	"$(sdp_addr answer_b callee)"

capture_ports rtp
RANGE="$RELAIS_RTP_MIN-$RELAIS_RTP_MAX"
n=$(ports_count rtp "$MPA" "${pa:-0}")
check "RTP caller -> relaisd ($n packets)" test "$n" -gt 0
n=$(ports_count rtp "${pb:-0}" "$MPB")
check "RTP relaisd -> callee ($n packets)" test "$n" -gt 0
n=$(ports_count rtp "$MPB" "${pb:-0}")
check "RTP callee -> relaisd, echoed ($n packets)" test "$n" -gt 0
n=$(ports_count rtp "${pa:-0}" "$MPA")
check "RTP relaisd -> caller ($n packets)" test "$n" -gt 0
n=$(($(ports_count rtp "$MPA" "$MPB") + $(ports_count rtp "$MPB" "$MPA")))
expect_eq "no RTP directly between caller and callee" 0 "$n"
total=$(wc -l <"$WORKDIR/rtp.ports")
n=$(($(ports_count rtp 0-65535 "$RANGE") + $(ports_count rtp "$RANGE" 0-65535)))
expect_eq "every RTP packet has relaisd on one end" "$total" "$n"
check "no active call left" wait_for 50 0.1 no_active_call

# ---- 2. callee hangs up ----------------------------------------------------
callee calleebye_b uas_bye -d 1500
caller calleebye uac_wait_bye 101
finished calleebye "$CALLER_PID"
finished calleebye_b "$CALLEE_PID"

# ---- 3. CANCEL before answer -----------------------------------------------
callee cancel_b uas_ring
caller cancel uac_cancel 101
finished cancel "$CALLER_PID"
finished cancel_b "$CALLEE_PID"
check "the callee saw the CANCEL" \
	grep -q "^callee-cancelled" "$WORKDIR/cancel_b.log"

# ---- 4. busy callee: 486 relayed -------------------------------------------
scenario_make "$WORKDIR/uac_486.xml" uac_reject CODE=486
callee busy_b uas_busy
caller busy "$WORKDIR/uac_486.xml" 101
finished busy "$CALLER_PID"
finished busy_b "$CALLEE_PID"

# ---- 5. unknown number: 404 ------------------------------------------------
scenario_make "$WORKDIR/uac_404.xml" uac_reject CODE=404
caller unknown "$WORKDIR/uac_404.xml" 999
finished unknown "$CALLER_PID"

# ---- 6. extension not registered: 480 --------------------------------------
scenario_make "$WORKDIR/uac_480.xml" uac_reject CODE=480
caller offline "$WORKDIR/uac_480.xml" 102
finished offline "$CALLER_PID"

check "no active call left at the end" wait_for 50 0.1 no_active_call

# ---- 7. call records -------------------------------------------------------
ctl --json cdr >"$WORKDIR/cdr.json" || fail "relaisctl --json cdr"

# field NAME PREFIX: FIELD of the record whose Call-ID starts with PREFIX-
cdr_field()
{
	json_query "[r['$2'] for r in j if r['callid'].startswith('$1-')][:1]" \
		<"$WORKDIR/cdr.json"
}

expect_eq "cdr: caller hang-up is ANSWERED" ANSWERED \
	"$(cdr_field answer disposition)"
expect_eq "cdr: caller hang-up cause" caller-bye "$(cdr_field answer cause)"
expect_eq "cdr: callee hang-up is ANSWERED" ANSWERED \
	"$(cdr_field calleebye disposition)"
expect_eq "cdr: callee hang-up cause" callee-bye \
	"$(cdr_field calleebye cause)"
expect_eq "cdr: CANCEL is CANCELLED" CANCELLED \
	"$(cdr_field cancel disposition)"
expect_eq "cdr: 486 is BUSY" BUSY "$(cdr_field busy disposition)"
expect_eq "cdr: caller of the answered call" 100 "$(cdr_field answer caller)"
expect_eq "cdr: callee of the answered call" 101 "$(cdr_field answer callee)"

# Attempts refused before ringing anyone (404, 480) are in the history too,
# with the status they got as their cause.
d=$(cdr_field unknown disposition)
expect_eq "cdr: the 404 attempt is recorded FAILED" FAILED "$d"
expect_eq "cdr: its cause is 404" 404 "$(cdr_field unknown cause)"
d=$(cdr_field offline disposition)
expect_eq "cdr: the 480 attempt is recorded NO ANSWER" "NO ANSWER" "$d"
expect_eq "cdr: its cause is 480" 480 "$(cdr_field offline cause)"

check "relaisd still running" relais_alive
finish
