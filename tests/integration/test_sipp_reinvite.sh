#!/usr/bin/env bash
#
# test_sipp_reinvite.sh: mid-call signalling through relaisd
#
# 100 calls 101 with a session timer, puts the call on hold and resumes it
# with re-INVITEs, refreshes with UPDATE, hangs up. Checked: each re-INVITE
# is answered with the mirrored direction (sendonly -> recvonly) and passed
# on to the callee; the 200 carries the session timer; a Session-Expires
# below session_min_se gets 422 with Min-SE; Require: 100rel gets 420.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"

free_port P101
free_port PCALLER
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END
users_csv "$WORKDIR/caller.csv" 100 "$PW100"

sipp_register reg101 101 "$PW101" "$P101" 600 || die "101 could not register"

uas_ready()
{
	[ -n "$(ss -Hlnu "( sport = :$P101 )")" ]
}

# logged NAME WHAT: the value a sipp scenario logged as "WHAT value"
logged()
{
	sed -n "s/^$2 \(.*\)/\1/p" "$WORKDIR/$1.log" 2>/dev/null | head -n 1
}

# ---- hold, resume, UPDATE, session timer ------------------------------------
sipp_bg callee uas_reinvite -i 127.0.0.1 -p "$P101" -m 1 -mi 127.0.0.1 \
	-mp "$MPB" -rtp_echo
CALLEE=$SIPP_PID
wait_for 50 0.1 uas_ready || fail "sipp UAS not listening"

sipp_bg caller uac_reinvite 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
	-p "$PCALLER" -m 1 -s 101 -inf "$WORKDIR/caller.csv" -mi 127.0.0.1 \
	-mp "$MPA" -auth_uri "101@127.0.0.1:$RELAIS_SIP_PORT" \
	-recv_timeout 10000
CALLER=$SIPP_PID

if sipp_wait "$CALLER"; then
	pass "caller: call, hold, resume, UPDATE, BYE completed"
else
	fail "caller scenario failed"
	sipp_show caller
fi
if sipp_wait "$CALLEE"; then
	pass "callee: answered the call and both re-INVITEs"
else
	fail "callee scenario failed"
	sipp_show callee
fi

expect_eq "200 carries the session timer" "1800;refresher=uac" \
	"$(logged caller caller-se)"
expect_eq "hold (sendonly) answered recvonly" a=recvonly \
	"$(logged caller caller-hold)"
expect_eq "resume answered sendrecv" a=sendrecv \
	"$(logged caller caller-resume)"
expect_eq "the callee was offered the hold" a=sendonly \
	"$(logged callee callee-reinvite1)"
expect_eq "the callee was offered the resume" a=sendrecv \
	"$(logged callee callee-reinvite2)"
check "the UPDATE was answered 200" grep -q "^caller-update-ok" \
	"$WORKDIR/caller.log"
check "the hold reached the callee with relaisd's media address" \
	grep -q "c=IN IP4 127.0.0.1" "$WORKDIR/callee.msg"

ctl --json cdr >"$WORKDIR/cdr.json"
expect_eq "one answered call recorded" ANSWERED \
	"$(json_query '[r["disposition"] for r in j][:1]' <"$WORKDIR/cdr.json")"

# ---- raw INVITEs: 422 below Min-SE, 420 for Require: 100rel ----------------
invite()
{
	local f=$1 extra=$2
	printf '%s\r\n' \
		"INVITE sip:101@127.0.0.1 SIP/2.0" \
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-$RANDOM$RANDOM;rport" \
		"Max-Forwards: 70" \
		"From: <sip:100@127.0.0.1>;tag=t$RANDOM" \
		"To: <sip:101@127.0.0.1>" \
		"Call-ID: raw-$RANDOM$RANDOM@127.0.0.1" \
		"CSeq: 1 INVITE" \
		"Contact: <sip:100@127.0.0.1:5999>" \
		"$extra" \
		"Content-Length: 0" "" >"$f"
}

invite "$WORKDIR/se.txt" "Session-Expires: 60"
expect_eq "Session-Expires 60 < Min-SE 90 gets 422" 422 \
	"$(sip_send udp "$WORKDIR/se.txt")"
invite "$WORKDIR/rel.txt" "Require: 100rel"
expect_eq "Require: 100rel gets 420" 420 "$(sip_send udp "$WORKDIR/rel.txt")"
check "relaisd still answers after them" test "$(sip_options)" = 200

finish
