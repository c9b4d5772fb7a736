#!/usr/bin/env bash
#
# test_sbc_call.sh: calls through relaisd as an SBC in front of a PBX
#
# Three roles on loopback addresses of their own (SPEC §4's IP1-IP5):
#   PBX   a second relaisd on 127.0.40.1 (UDP/TCP 5060, relay 127.0.40.1),
#         extensions 100 and 101
#   SBC   relaisd with sbc_mode = standard and no SIP listener of its own:
#         public side 127.0.20.1 (tls+udp/tcp, default port 5063),
#         private side 127.0.30.1 (udp/tcp, default port 5064), sbc_pbx
#         127.0.40.1:5060 over UDP
#   phones  100 outside: a sipp on 127.0.10.1 registering THROUGH the SBC
#         (the PBX's 401 passed back, then 200); 101 on the LAN: a sipp on
#         127.0.40.2 registering at the PBX directly
# Call 1: 100 -> 101 (public -> LAN), RTP both ways (the caller plays
# G.711, the callee echoes). Call 2: 101 -> 100 (LAN -> public): the PBX
# calls the SBC's binding, the SBC the phone. Checked on a capture of lo:
# no packet to or from 127.0.10.x carries a private address (127.0.30.x,
# 127.0.40.x) anywhere in SIP or SDP, no packet of the SBC's private side
# a public one (127.0.10.x, 127.0.20.x); RTP flows phone <-> SBC public
# ports and SBC private ports <-> PBX relay <-> LAN phone, never between
# 127.0.10.x and 127.0.40.x; the Call-IDs of the two sides differ; the
# PBX knows phone 100 by a contact on the SBC's private address.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'
DOM=sbc.relais.test # the domain the outside phone registers to

PHONE_IP=127.0.10.1
SBC_PUB=127.0.20.1
SBC_PRIV=127.0.30.1
PBX_IP=127.0.40.1
LAN_IP=127.0.40.2
port_pref PBX_PORT 5060 || die "no free port"
port_pref SBC_PORT 5063 || die "no free port" # the default
port_pref PRIV_PORT 5064 || die "no free port" # the default

free_range 400 SBC_RTP_MIN SBC_RTP_MAX || die "no free RTP range"
free_range 40 PBX_RTP_MIN PBX_RTP_MAX || die "no free RTP range"
SBC_RANGE="$SBC_RTP_MIN-$SBC_RTP_MAX"

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

listening()
{
	[ -n "$(ss -Hln"$1" "( src $2 and sport = :$3 )" 2>/dev/null)" ]
}
check "SBC public side: UDP on $SBC_PUB:$SBC_PORT" \
	wait_for 50 0.1 listening u "$SBC_PUB" "$SBC_PORT"
check "SBC public side: TLS/TCP on $SBC_PUB:$SBC_PORT" \
	listening t "$SBC_PUB" "$SBC_PORT"
check "SBC private side: UDP on $SBC_PRIV:$PRIV_PORT" \
	listening u "$SBC_PRIV" "$PRIV_PORT"
n=$(ss -Hlnup 2>/dev/null | grep -c "pid=$NODE_PID_sbc," | tr -d ' ')
n2=$(ss -Hlnup 2>/dev/null | grep "pid=$NODE_PID_sbc," |
	grep -cvE "($SBC_PUB|$SBC_PRIV):" | tr -d ' ')
echo "     SBC UDP sockets: $n, off its two interfaces: $n2"
free_port P100
free_port P101
free_port PC101
free_range 4 MPA MPA_END # phone 100's media
free_range 4 MPB MPB_END # phone 101's media
users_csv "$WORKDIR/u100.csv" 100 "$PW100"
users_csv "$WORKDIR/u101.csv" 101 "$PW101"

# this test's ports only: other runs may use the same addresses
capture_start all "port $SBC_PORT or port $((SBC_PORT + 1)) or
	port $PRIV_PORT or port $PBX_PORT or portrange $SBC_RANGE or
	portrange $PBX_RTP_MIN-$PBX_RTP_MAX or portrange $MPA-$MPA_END or
	portrange $MPB-$MPB_END" || fail "tshark did not start capturing"

# ---- registrations -----------------------------------------------------
if sipp_run reg101 reg_ok "$PBX_IP:$PBX_PORT" -i "$LAN_IP" -p "$P101" \
	-m 1 -inf "$WORKDIR/u101.csv" -set expires 600 \
	-recv_timeout 5000 -timeout 20; then
	pass "101 registered at the PBX from $LAN_IP:$P101"
else
	sipp_show reg101
	fail "101 could not register at the PBX"
fi

if sipp_run reg100 sbc_reg "$SBC_PUB:$SBC_PORT" -i "$PHONE_IP" \
	-p "$P100" -m 1 -inf "$WORKDIR/u100.csv" -set expires 600 \
	-set dom "$DOM" -auth_uri "$DOM" -recv_timeout 5000 -timeout 20; then
	pass "100 registered through the SBC (401 passed back, then 200)"
else
	sipp_show reg100
	fail "100 could not register through the SBC"
fi
check "the 200 granted an expiry to 100's contact" \
	grep -q "^registered 100 expires=" "$WORKDIR/reg100.log"

# pbx_contacts EXT: the contacts the PBX holds for EXT
pbx_contacts()
{
	nctl pbx --json registrations --ext "$1" |
		json_query "[c['uri'] for c in j]"
}
c100=$(pbx_contacts 100)
echo "     PBX contact of 100: $c100"
case "$c100" in
*"@$SBC_PRIV:$PRIV_PORT"*) pass "the PBX reaches 100 at the SBC's private side" ;;
*) fail "the PBX's contact of 100 is not on $SBC_PRIV:$PRIV_PORT: '$c100'" ;;
esac
case "$c100" in
*127.0.10.*) fail "the phone's address reached the PBX in its contact" ;;
*sip:100@*) fail "the PBX's contact of 100 carries the phone's user part" ;;
*) pass "the PBX's contact of 100 hides the phone" ;;
esac
n=$(sbc_counter sbc bindings)
expect_eq "relaisctl sbc status: one binding" 1 "$n"

# the UAS on a port is listening
uas_ready()
{
	[ -n "$(ss -Hlnu "( src $1 and sport = :$2 )")" ]
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

sdp_field()
{
	sed -n "s/^$2-sdp c=IN IP4 \([0-9.]*\) m=audio \([0-9]*\).*/\\$3/p" \
		"$WORKDIR/$1.log" 2>/dev/null | head -n 1
}

in_sbc_range()
{
	[ -n "$1" ] && [ "$1" -ge "$SBC_RTP_MIN" ] && [ "$1" -le "$SBC_RTP_MAX" ]
}

# ---- call 1: public phone 100 -> LAN phone 101 -----------------------------
sipp_bg_again call1_b uas_answer -i "$LAN_IP" -p "$P101" -m 1 \
	-mi "$LAN_IP" -mp "$MPB" -rtp_echo
CALLEE_PID=$SIPP_PID
wait_for 50 0.1 uas_ready "$LAN_IP" "$P101" || fail "UAS 101 not listening"
sipp_bg call1 sbc_uac_call "$SBC_PUB:$SBC_PORT" -i "$PHONE_IP" -p "$P100" \
	-m 1 -s 101 -inf "$WORKDIR/u100.csv" -set dom "$DOM" -auth_uri "101@$DOM" \
	-mi "$PHONE_IP" -mp "$MPA" -d 3000 -recv_timeout 10000
CALLER_PID=$SIPP_PID
calls_up()
{
	[ "$(sbc_counter sbc calls)" -ge 1 ] 2>/dev/null
}
check "relaisctl sbc status counts the call in progress" \
	wait_for 50 0.1 calls_up
finished call1 "$CALLER_PID"
finished call1_b "$CALLEE_PID"

a=$(sdp_field call1 caller 1)
p=$(sdp_field call1 caller 2)
expect_eq "the caller's SDP answer points at the SBC's public side" \
	"$SBC_PUB" "$a"
check "... on a port of the SBC's RTP range ($p)" in_sbc_range "$p"
a=$(sdp_field call1_b callee 1)
expect_eq "the LAN phone's SDP offer points at the PBX's relay" \
	"$PBX_IP" "$a"

# ---- call 2: LAN phone 101 -> public phone 100 ------------------------------
sipp_bg_again call2_b uas_answer -i "$PHONE_IP" -p "$P100" -m 1 \
	-mi "$PHONE_IP" -mp "$MPA" -rtp_echo
CALLEE_PID=$SIPP_PID
wait_for 50 0.1 uas_ready "$PHONE_IP" "$P100" || fail "UAS 100 not listening"
sipp_bg call2 uac_call "$PBX_IP:$PBX_PORT" -i "$LAN_IP" -p "$PC101" -m 1 \
	-s 100 -inf "$WORKDIR/u101.csv" -mi "$LAN_IP" -mp "$MPB" \
	-auth_uri "100@$PBX_IP:$PBX_PORT" -d 3000 -recv_timeout 10000
CALLER_PID=$SIPP_PID
finished call2 "$CALLER_PID"
finished call2_b "$CALLEE_PID"
a=$(sdp_field call2_b callee 1)
p=$(sdp_field call2_b callee 2)
expect_eq "the public phone's SDP offer points at the SBC's public side" \
	"$SBC_PUB" "$a"
check "... on a port of the SBC's RTP range ($p)" in_sbc_range "$p"

no_sbc_call()
{
	[ "$(sbc_counter sbc calls)" = 0 ]
}
check "no call left in the SBC" wait_for 50 0.1 no_sbc_call
sleep 0.5 # the last BYE's 200 on the wire
capture_stop

# ---- topology hiding ---------------------------------------------------------
read -r sip leaks < <(capture_leaks all '127\.0\.10\.[0-9]+' \
	'127\.0\.(30|40)\.[0-9]+')
check "public side: SIP messages captured ($sip)" test "${sip:-0}" -ge 8
if [ "${leaks:-1}" = 0 ]; then
	pass "public side: no private address in any packet"
else
	fail "public side: $leaks packets carry a private address"
	head -n 40 "$WORKDIR/all.leaks" | sed 's/^/    /'
fi
read -r sip leaks < <(capture_leaks all "${SBC_PRIV//./\\.}" \
	'127\.0\.(10|20)\.[0-9]+')
check "private side: SIP messages captured ($sip)" test "${sip:-0}" -ge 8
if [ "${leaks:-1}" = 0 ]; then
	pass "private side: no public address in any packet"
else
	fail "private side: $leaks packets carry a public address"
	head -n 40 "$WORKDIR/all.leaks" | sed 's/^/    /'
fi

capture_callids all '127\.0\.10\.[0-9]+' >"$WORKDIR/callids.pub"
capture_callids all "${SBC_PRIV//./\\.}" >"$WORKDIR/callids.priv"
n1=$(wc -l <"$WORKDIR/callids.pub")
n2=$(wc -l <"$WORKDIR/callids.priv")
common=$(comm -12 "$WORKDIR/callids.pub" "$WORKDIR/callids.priv" | wc -l)
check "Call-IDs seen on both sides ($n1 public, $n2 private)" \
	test "$n1" -ge 3 -a "$n2" -ge 3
expect_eq "no Call-ID crosses the SBC" 0 "$common"

# ---- media through the SBC ---------------------------------------------------
capture_flows all
E='127\.0\.'
n=$(flows_count all "${PHONE_IP//./\\.}" "${SBC_PUB//./\\.}" "$MPA" "$SBC_RANGE")
check "RTP phone 100 -> SBC public relay port ($n)" test "$n" -gt 50
n=$(flows_count all "${SBC_PUB//./\\.}" "${PHONE_IP//./\\.}" "$SBC_RANGE" "$MPA")
check "RTP SBC public relay port -> phone 100 ($n)" test "$n" -gt 50
n=$(flows_count all "${SBC_PRIV//./\\.}" "${PBX_IP//./\\.}" "$SBC_RANGE")
check "RTP SBC private relay port -> PBX ($n)" test "$n" -gt 50
n=$(flows_count all "${PBX_IP//./\\.}" "${SBC_PRIV//./\\.}" 0-65535 "$SBC_RANGE")
check "RTP PBX -> SBC private relay port ($n)" test "$n" -gt 50
n=$(flows_count all "${PBX_IP//./\\.}" "${LAN_IP//./\\.}" 0-65535 "$MPB")
check "RTP PBX relay -> LAN phone 101 ($n)" test "$n" -gt 50
n=$(($(flows_count all "${E}10\.[0-9]+" "${E}(30|40)\.[0-9]+") +
	$(flows_count all "${E}(30|40)\.[0-9]+" "${E}10\.[0-9]+")))
expect_eq "no packet between the public phone and the private side" 0 "$n"
n=$(($(flows_count all "${SBC_PUB//./\\.}" "${E}(30|40)\.[0-9]+") +
	$(flows_count all "${E}(30|40)\.[0-9]+" "${SBC_PUB//./\\.}")))
expect_eq "the SBC's public address talks to no private address" 0 "$n"

n=$(sbc_counter sbc calls_total)
check "relaisctl sbc status: calls_total $n >= 2" test "${n:-0}" -ge 2
check "SBC still running" node_alive sbc
check "PBX still running" node_alive pbx
[ "$TESTS_FAILED" -ne 0 ] && nodes_show sbc pbx
finish
