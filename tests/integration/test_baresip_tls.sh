#!/usr/bin/env bash
#
# test_baresip_tls.sh: a phone registered over TLS is called on its own
# connection
#
# baresip 100 registers over UDP, baresip 102 over TLS (relaisd's generated
# self-signed certificate). 100 calls 102 and 102 calls 100. Checked: the
# binding is TLS from the phone's ephemeral port; relaisd reaches 102 over
# the connection 102 opened (no connection to 102's listening port); no SIP
# crosses that connection in clear; the TLS version and suite negotiated are
# among those SPEC §2 allows; both calls are answered, audio flows.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baresip.sh"

command -v baresip >/dev/null ||
	die "baresip not installed (scripts/deps.sh test)"

PW100='Blue7-Otter-Kx'
PW102='Amber3-Finch-Wy'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 102 "$PW102" || die "relaisctl extension add 102"

sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone100.wav" synth 30 sine 440 vol 0.5 ||
	die "sox cannot make the tone"
sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone102.wav" synth 30 sine 660 vol 0.5

capture_start tls "tcp port $RELAIS_TLS_PORT" ||
	fail "tshark did not start capturing"
TLS_CAPTURE=$CAPTURE_PID

phone_setup 100 "$PW100"
phone_setup 102 "$PW102" tls
# baresip listens for TLS on its SIP port + 1
PHONE_TLS=$((SIP_102 + 1))
capture_start listen "tcp port $PHONE_TLS" ||
	fail "tshark did not start capturing"

binding()
{
	ctl --json registrations --ext 102 |
		json_query '[b["transport"] + " " + b["received"] for b in j][:1]'
}

registered()
{
	[ "$(ctl --json registrations | json_query 'len(j)')" = 2 ]
}

if wait_for 100 0.1 registered; then
	pass "100 (UDP) and 102 (TLS) registered with digest auth"
else
	die "the phones did not register"
fi

b=$(binding)
expect_eq "102's binding is TLS" tls "${b%% *}"
check "102 registered from an ephemeral port, not $PHONE_TLS ($b)" \
	test "${b##*:}" != "$PHONE_TLS"

cmd 100 "/dial 102"
check "100 -> 102 over TLS answered" wait_for 100 0.1 connected
sleep 2
cmd 100 "/hangup"
check "100 -> 102 ended" wait_for 50 0.1 no_call

cmd 102 "/dial 100"
check "102 -> 100 answered" wait_for 100 0.1 connected
sleep 2
cmd 102 "/hangup"
check "102 -> 100 ended" wait_for 50 0.1 no_call

capture_stop
kill_pid "$TLS_CAPTURE"

n=$(tshark -r "$WORKDIR/listen.pcap" 2>/dev/null | wc -l)
expect_eq "no connection to 102's listening port $PHONE_TLS" 0 "$n"

n=$(tshark -r "$WORKDIR/tls.pcap" -Y sip 2>/dev/null | wc -l)
expect_eq "no SIP in clear on the TLS port" 0 "$n"
n=$(tshark -r "$WORKDIR/tls.pcap" -Y tls.app_data 2>/dev/null | wc -l)
check "TLS records carried the signalling ($n)" test "$n" -gt 4

# the ServerHello: TLS 1.3 names its version in an extension
hello=$(tshark -r "$WORKDIR/tls.pcap" -Y "tls.handshake.type == 2" \
	-T fields -e tls.handshake.extensions.supported_version \
	-e tls.handshake.ciphersuite 2>/dev/null | head -n 1)
echo "     ServerHello: $hello"
case "$hello" in
0x0304*0x1302* | 0x0304*0x1301* | 0x0304*0x1303*)
	pass "TLS 1.3 with a SPEC §2 suite" ;;
*0xc030* | *0xc02f* | *0xc028* | *0xc027*)
	pass "TLS 1.2 with a SPEC §2 suite" ;;
*) fail "negotiated version/suite not allowed by SPEC §2: '$hello'" ;;
esac

# what each phone heard: the other's tone, not silence
heard_tone()
{
	local f rms freq

	f=$(ls "$WORKDIR/phone$1"/rec/*-dec.wav 2>/dev/null | head -n 1)
	[ -f "$f" ] || return 1
	rms=$(sox "$f" -n stat 2>&1 | awk '/RMS +amplitude/ { print $3 }')
	freq=$(sox "$f" -n stat 2>&1 | awk '/Rough +frequency/ { print $3 }')
	echo "     $1 heard: RMS $rms, ~$freq Hz"
	awk -v r="$rms" -v f="$freq" -v hz="$2" \
		'BEGIN { exit !(r > 0.05 && f > hz * 0.9 && f < hz * 1.1) }'
}
check "100 heard 102's 660 Hz tone" heard_tone 100 660
check "102 heard 100's 440 Hz tone" heard_tone 102 440

finish
