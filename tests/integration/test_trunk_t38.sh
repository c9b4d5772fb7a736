#!/usr/bin/env bash
#
# test_trunk_t38.sh: a fax call switching to T.38 across relaisd
#
# sipp as the carrier (an IP trunk, PCMA) calls DID 2304024, which an
# inbound rule sends to extension 101, a sipp UAS standing for a fax ATA.
# Once the call is answered in PCMA the carrier re-INVITEs with only
# m=image udptl t38 (issue 3, item 7). Checked:
#  1. relaisd answers the carrier 200 with m=image udptl t38 on its own
#     address and a relay port (never the phone's), the T38 attributes
#     kept;
#  2. the phone gets a re-INVITE with m=image udptl t38 on relaisd's
#     address and relay port (never the carrier's), the T38 attributes
#     passed through, and no audio stream;
#  3. UDPTL datagrams sent from the carrier's UDPTL port to the port
#     relaisd gave it reach the phone's media port through relaisd, are
#     echoed and come back to the carrier unchanged (python3 sends and
#     checks them, tshark on lo counts them per hop);
#  4. the carrier hangs up; the call is recorded as answered.

. "$(dirname "$0")/lib.sh"

PW101='Green4-Heron-Qz'
DID=2304024
UDPTL_COUNT=20

relais_start
ext_add 101 "$PW101" || die "relaisctl extension add 101"

free_port PCAR          # the carrier's SIP port
free_port P101          # the fax ATA's SIP port
free_port T38CAR        # the carrier's UDPTL port (the test sends from it)
free_range 4 MPC MPC_END # the carrier's RTP (sipp binds port and port + 2)
free_range 4 MPB MPB_END # the ATA's media: RTP, then UDPTL, echoed

ctl trunk add carrier --kind ip --host 127.0.0.1 --port "$PCAR" \
	--options-interval 0 --codecs PCMA,telephone-event \
	>"$WORKDIR/trunk.out" 2>&1 || {
	cat "$WORKDIR/trunk.out"
	die "relaisctl trunk add carrier"
}
ctl inbound add --name fax --did "$DID" --open extension:101 \
	>/dev/null || die "relaisctl inbound add fax"

if sipp_register reg101 101 "$PW101" "$P101" 600; then
	pass "101 (fax ATA) registered from 127.0.0.1:$P101"
else
	sipp_show reg101
	die "101 could not register"
fi

uas_ready()
{
	[ -n "$(ss -Hlnu "( sport = :$P101 )")" ]
}

# logged NAME WHAT: the rest of the first line a sipp scenario logged as
# "WHAT ..."
logged()
{
	sed -n "s/^$2 \(.*\)/\1/p" "$WORKDIR/$1.log" 2>/dev/null | head -n 1
}

has_logged()
{
	grep -q "^$2" "$WORKDIR/$1.log" 2>/dev/null
}

# image_port LINE: the port of the "m=image PORT ..." in a logged line
image_port()
{
	sed -n 's/.*m=image \([0-9]*\) .*/\1/p' <<<"$1"
}

image_addr()
{
	sed -n 's/^c=IN IP4 \([0-9.]*\) .*/\1/p' <<<"$1"
}

in_rtp_range()
{
	[ -n "$1" ] && [ "$1" -ge "$RELAIS_RTP_MIN" ] &&
		[ "$1" -le "$RELAIS_RTP_MAX" ]
}

# udptl_send PORT: send UDPTL_COUNT UDPTL packets (RFC 3362 / T.38
# clause 9: sequence number, primary IFP, redundancy) from the carrier's
# UDPTL port to relaisd's PORT; print "sent N back M intact K" where M
# counts the datagrams that came back and K those unchanged
udptl_send()
{
	"$PYTHON" - "$T38CAR" "$1" "$UDPTL_COUNT" <<'PYEOF'
import socket, sys, time

lport, rport, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", lport))
s.settimeout(0.05)

def udptl(seq):
    # seq, IFP length, t30-indicator CNG-like IFP, error recovery:
    # secondary-ifp-packets with no entries
    ifp = bytes([0x00, 0x01 + seq % 8])
    return seq.to_bytes(2, "big") + bytes([len(ifp)]) + ifp + b"\x00\x00"

sent = {}
back = intact = 0
deadline = time.time() + 10
seq = 0
while time.time() < deadline and back < count:
    if seq < count:
        pkt = udptl(seq)
        sent[pkt] = True
        s.sendto(pkt, ("127.0.0.1", rport))
        seq += 1
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    back += 1
    if data in sent and addr == ("127.0.0.1", rport):
        intact += 1
print("sent %d back %d intact %d" % (seq, back, intact))
PYEOF
}

capture_start udptl "udp and (port $T38CAR or port $MPB)" ||
	fail "tshark did not start capturing"

sipp_bg phone t38_phone -i 127.0.0.1 -p "$P101" -m 1 -mi 127.0.0.1 \
	-mp "$MPB" -rtp_echo
PHONE_PID=$SIPP_PID
wait_for 50 0.1 uas_ready || fail "101's UAS not listening"

sipp_bg carrier t38_carrier 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
	-p "$PCAR" -m 1 -s "$DID" -mi 127.0.0.1 -mp "$MPC" \
	-set t38port "$T38CAR" -d 6000 -recv_timeout 10000
CARRIER_PID=$SIPP_PID

# ---- 1, 2: the switch to T.38 -------------------------------------------
check "the carrier's re-INVITE was answered and acknowledged" \
	wait_for 150 0.1 has_logged carrier carrier-t38-acked
check "the phone answered the re-INVITE relaisd passed on" \
	wait_for 100 0.1 has_logged phone phone-t38-acked

car=$(logged carrier carrier-t38)
ph=$(logged phone phone-t38)
echo "     carrier got: $car"
echo "     phone got:   $ph"
pa=$(image_port "$car")
pb=$(image_port "$ph")

case "$car" in
*"m=image $pa udptl t38 "*)
	pass "relaisd answered the carrier m=image udptl t38"
	;;
*) fail "relaisd's answer to the carrier: '$car'" ;;
esac
expect_eq "carrier's answer c= is relaisd's media address" 127.0.0.1 \
	"$(image_addr "$car")"
check "carrier's answer port '$pa' is a relay port" in_rtp_range "$pa"
check "carrier's answer port is not the phone's ($MPB)" test "$pa" != "$MPB"
check "carrier's answer keeps T38FaxUdpEC" \
	grep -q "ec=|a=T38FaxUdpEC:t38UDPRedundancy|" <<<"$car"
check "carrier's answer has no audio stream" grep -q "audio=||" <<<"$car"

case "$ph" in
*"m=image $pb udptl t38 "*)
	pass "the phone was offered m=image udptl t38"
	;;
*) fail "relaisd's re-INVITE to the phone: '$ph'" ;;
esac
expect_eq "phone's re-INVITE c= is relaisd's media address" 127.0.0.1 \
	"$(image_addr "$ph")"
check "phone's re-INVITE port '$pb' is a relay port" in_rtp_range "$pb"
check "phone's re-INVITE port is not the carrier's ($T38CAR)" \
	test "$pb" != "$T38CAR"
check "phone's re-INVITE carries T38MaxBitRate:14400" \
	grep -q "rate=|a=T38MaxBitRate:14400|" <<<"$ph"
check "phone's re-INVITE carries T38FaxUdpEC" \
	grep -q "ec=|a=T38FaxUdpEC:t38UDPRedundancy|" <<<"$ph"
check "phone's re-INVITE has no audio stream" grep -q "audio=||" <<<"$ph"
check "the carrier's address is not in the phone's re-INVITE" \
	test "$(grep -c "$T38CAR" "$WORKDIR/phone.msg")" = 0

# ---- 3. UDPTL through the relay ------------------------------------------
if in_rtp_range "$pa"; then
	res=$(udptl_send "$pa")
else
	res="sent 0 back 0 intact 0"
fi
echo "     UDPTL: $res"
read -r _ sent _ back _ intact <<<"$res"
expect_eq "UDPTL datagrams sent to relaisd" "$UDPTL_COUNT" "$sent"
check "UDPTL came back through relaisd and the phone ($back)" \
	test "${back:-0}" -gt 0
expect_eq "UDPTL payloads unchanged across the relay" "$back" "$intact"

# ---- 4. hang-up ----------------------------------------------------------
if sipp_wait "$CARRIER_PID"; then
	pass "carrier: call, T.38 re-INVITE, BYE completed"
else
	fail "carrier scenario failed"
	sipp_show carrier
fi
if sipp_wait "$PHONE_PID"; then
	pass "phone: answered the call and the T.38 re-INVITE"
else
	fail "phone scenario failed"
	sipp_show phone
fi
capture_stop

capture_ports udptl
n=$(ports_count udptl "$T38CAR" "${pa:-0}")
check "UDPTL carrier -> relaisd ($n packets)" test "$n" -gt 0
n=$(ports_count udptl "${pb:-0}" "$MPB")
check "UDPTL relaisd -> phone ($n packets)" test "$n" -gt 0
n=$(ports_count udptl "$MPB" "${pb:-0}")
check "UDPTL phone -> relaisd, echoed ($n packets)" test "$n" -gt 0
n=$(ports_count udptl "${pa:-0}" "$T38CAR")
check "UDPTL relaisd -> carrier ($n packets)" test "$n" -gt 0
n=$(($(ports_count udptl "$T38CAR" "$MPB") +
	$(ports_count udptl "$MPB" "$T38CAR")))
expect_eq "no UDPTL directly between carrier and phone" 0 "$n"

ctl --json cdr >"$WORKDIR/cdr.json" || fail "relaisctl --json cdr"
disp=$(json_query "[r['disposition'] for r in j if r['callee'] == '101']" \
	<"$WORKDIR/cdr.json")
expect_eq "the fax call is recorded as answered" ANSWERED "$disp"
check "relaisd still running" relais_alive

finish
