#!/usr/bin/env bash
#
# test_baresip_call.sh: two real softphones call each other through relaisd
#
# Two headless baresip 1.0 phones register as 100 and 101 (digest auth),
# each playing a tone from a WAV file (100: 440 Hz, 101: 880 Hz) and
# recording what it hears (sndfile module). Call 1: 100 calls 101, holds,
# resumes, 101 hangs up. Call 2: 101 calls 100, 101 hangs up. Checked:
# tshark on lo shows RTP (v2, PCMU) both ways between each phone and
# relaisd's relay ports and none phone to phone; no audio reaches 100 while
# on hold, audio again after the resume; on the SIP port, 100's re-INVITEs
# are sendonly then sendrecv, relaisd passes both on to 101, 101 answers
# recvonly then sendrecv and so does relaisd to 100; what each phone
# recorded is not silence and is the other phone's tone; both calls are in
# the call records as ANSWERED, with the right cause and a duration.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baresip.sh"

command -v baresip >/dev/null ||
	die "baresip not installed (scripts/deps.sh test)"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"

sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone100.wav" synth 30 sine 440 vol 0.5 ||
	die "sox cannot make the tone"
sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone101.wav" synth 30 sine 880 vol 0.5

registered()
{
	[ "$(ctl --json registrations | json_query 'len(j)')" = 2 ]
}

phone_setup 100 "$PW100"
phone_setup 101 "$PW101"

if wait_for 100 0.1 registered; then
	pass "both baresip phones registered with digest auth"
else
	die "the phones did not register"
fi

capture_start sip "udp port $RELAIS_SIP_PORT" ||
	fail "tshark did not start capturing SIP"
SIP_CAPTURE=$CAPTURE_PID
capture_start rtp "udp and (portrange $RTP_100_MIN-$RTP_100_MAX or
	portrange $RTP_101_MIN-$RTP_101_MAX)" ||
	fail "tshark did not start capturing RTP"

# ---- call 1: 100 -> 101, hold, resume, callee hangs up ----------------------
cmd 100 "/dial 101"
check "call 1 is answered (auto-answer)" wait_for 100 0.1 connected
sleep 2 # two seconds of audio both ways, measured below
cmd 100 "/hold"
check "hold re-INVITE handled" \
	wait_for 50 0.1 logged "caller leg renegotiated (hold)"
HELD=$(date +%s.%N)
sleep 1 # on hold for a second
RESUMED=$(date +%s.%N)
cmd 100 "/resume"
check "resume re-INVITE handled" \
	wait_for 50 0.1 logged "caller leg renegotiated (active)"
sleep 2
cmd 101 "/hangup"
check "call 1 ended by the callee" wait_for 50 0.1 no_call

# ---- call 2: 101 -> 100, caller hangs up ------------------------------------
cmd 101 "/dial 100"
check "call 2 is answered" wait_for 100 0.1 connected
sleep 3
cmd 101 "/hangup"
check "call 2 ended by the caller" wait_for 50 0.1 no_call

capture_stop
kill_pid "$SIP_CAPTURE"

# RTP proper (version 2, PCMU), not just any datagram: tshark's heuristic
# decoder, as nothing in the capture says which ports are RTP
tshark -r "$WORKDIR/rtp.pcap" -o rtp.heuristic_rtp:TRUE \
	-Y 'rtp.version == 2 && rtp.p_type == 0' \
	-T fields -e udp.srcport -e udp.dstport -e frame.time_epoch \
	2>/dev/null >"$WORKDIR/rtp.all"
cut -f 1,2 "$WORKDIR/rtp.all" >"$WORKDIR/rtp.ports"
awk -v t="$RESUMED" '$3 > t { print $1 "\t" $2 }' "$WORKDIR/rtp.all" \
	>"$WORKDIR/resumed.ports"
# on hold from HELD (+ 0.2 s for packets in flight) to RESUMED
awk -v a="$HELD" -v b="$RESUMED" \
	'$3 > a + 0.2 && $3 < b { print $1 "\t" $2 }' \
	"$WORKDIR/rtp.all" >"$WORKDIR/held.ports"

RELAY="$RELAIS_RTP_MIN-$RELAIS_RTP_MAX"
R100="$RTP_100_MIN-$RTP_100_MAX"
R101="$RTP_101_MIN-$RTP_101_MAX"
for pair in "$R100 $RELAY 100->relaisd" "$RELAY $R101 relaisd->101" \
	"$R101 $RELAY 101->relaisd" "$RELAY $R100 relaisd->100"; do
	# shellcheck disable=SC2086 # split on purpose
	set -- $pair
	n=$(ports_count rtp "$1" "$2")
	check "RTP $3: $n packets" test "$n" -gt 100
done
n=$(($(ports_count rtp "$R100" "$R101") +
	$(ports_count rtp "$R101" "$R100")))
expect_eq "no RTP directly between the phones" 0 "$n"
# 101 answered recvonly: it stops sending, so 100 gets nothing while held
n=$(ports_count held "$RELAY" "$R100")
check "while on hold, no audio from 101 reaches 100: $n packets" \
	test "$n" -le 5
n=$(ports_count resumed "$RELAY" "$R100")
check "after the resume, 101's audio reaches 100 again: $n packets" \
	test "$n" -gt 50

# ---- hold and resume on the wire --------------------------------------------
# sdp_dirs SRC DST: the direction attribute of each re-INVITE (request "I",
# in a dialog: To has a tag) and each answer to an INVITE ("A") carrying SDP
# from SIP port SRC to port DST, in order, e.g. "A:sendrecv I:sendonly ..."
sdp_dirs()
{
	tshark -r "$WORKDIR/sip.pcap" -Y "udp.srcport == $1 &&
		udp.dstport == $2 && sdp && sip.CSeq.method == \"INVITE\" &&
		(sip.Status-Code || sip.to.tag)" \
		-T fields -e sip.Method -e sdp.media_attr -E aggregator=, \
		2>/dev/null | awk -F '\t' \
		-v dirs='^(sendrecv|sendonly|recvonly|inactive)$' '{
			d = "none"
			n = split($2, a, ",")
			for (i = 1; i <= n; i++)
				if (a[i] ~ dirs)
					d = a[i]
			printf "%s%s:%s", sep, ($1 == "INVITE" ? "I" : "A"), d
			sep = " "
		}'
}
# expect_dirs DESCRIPTION SRC DST EXPECTED: sdp_dirs SRC DST begins with
# EXPECTED (call 1, 100 -> 101, holds and resumes; call 2 adds answers)
expect_dirs()
{
	local d

	d=$(sdp_dirs "$2" "$3")
	echo "     SIP $2 -> $3: $d"
	case "$d" in
	"$4" | "$4 "*) pass "$1" ;;
	*) fail "$1: expected '$4...', got '$d'" ;;
	esac
}
expect_dirs "100 re-INVITEd sendonly (hold), then sendrecv (resume)" \
	"$SIP_100" "$RELAIS_SIP_PORT" "I:sendonly I:sendrecv"
expect_dirs "relaisd passed the hold and the resume on to 101" \
	"$RELAIS_SIP_PORT" "$SIP_101" "I:sendonly I:sendrecv"
expect_dirs "101 answered the hold recvonly, the resume sendrecv" \
	"$SIP_101" "$RELAIS_SIP_PORT" "A:sendrecv A:recvonly A:sendrecv"
expect_dirs "relaisd answered 100's hold recvonly, the resume sendrecv" \
	"$RELAIS_SIP_PORT" "$SIP_100" "A:sendrecv A:recvonly A:sendrecv"

# ---- what the phones heard --------------------------------------------------
# heard EXT HZ: both recordings of what EXT received are loud and near HZ
heard()
{
	local f st rms freq ok=0 n=0

	for f in "$WORKDIR/phone$1"/rec/*-dec.wav; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		st=$(sox "$f" -n stat 2>&1)
		rms=$(echo "$st" | awk '/RMS +amplitude/ { print $3 }')
		freq=$(echo "$st" | awk '/Rough +frequency/ { print $3 }')
		echo "     $1 heard $(basename "$f"): RMS $rms, ~$freq Hz"
		if awk -v r="$rms" -v f="$freq" -v hz="$2" \
			'BEGIN { exit !(r > 0.05 &&
				f > hz * 0.9 && f < hz * 1.1) }'; then
			ok=$((ok + 1))
		fi
	done
	[ "$n" -eq 2 ] && [ "$ok" -eq 2 ]
}
check "100 heard 101's 880 Hz tone in both calls" heard 100 880
check "101 heard 100's 440 Hz tone in both calls" heard 101 440

# ---- call records -----------------------------------------------------------
CDR="$WORKDIR/cdr.json"
ctl --json cdr >"$CDR" || fail "relaisctl --json cdr"
expect_eq "two answered calls" "ANSWERED ANSWERED" \
	"$(json_query '" ".join(r["disposition"] for r in j)' <"$CDR")"
expect_eq "causes: caller hang-up (call 2), callee hang-up (call 1)" \
	"caller-bye callee-bye" \
	"$(json_query '" ".join(r["cause"] for r in j)' <"$CDR")"
expect_eq "callers 101 then 100" "101 100" \
	"$(json_query '" ".join(r["caller"] for r in j)' <"$CDR")"
check "durations are not zero" test \
	"$(json_query 'min(r["duration"] for r in j)' <"$CDR")" -ge 2

finish
