#!/usr/bin/env bash
#
# test_sbc_chain.sh: chained SBCs (a WAN element in the DMZ, a LAN element
# inside) carry a TLS + SRTP call from a remote worker to a desk phone
#
#   phone 100   baresip on 127.0.10.1, registering over TLS with mandatory
#               SRTP to the WAN element's public side
#   WAN element relaisd, sbc_mode wan: public 127.0.20.1:5063 (TLS),
#               private 127.0.21.1, sbc_pbx = the LAN element
#               127.0.22.1:5065 over TLS
#   LAN element relaisd, sbc_mode lan: public 127.0.22.1:5065 (TLS, the
#               default port in lan mode), sbc_wan_peer 127.0.21.1,
#               private 127.0.30.1, sbc_pbx 127.0.40.1:5061 over TLS
#   PBX         relaisd on 127.0.40.1 (TLS 5061, UDP 5060)
#   phone 101   baresip on 127.0.40.2, registered at the PBX over TLS
#               with mandatory SRTP
# Each relaisd presents its own certificate (IP SANs of its addresses) by
# a test CA, which is every relaisd's tls_ca. Phone 100 (440 Hz) calls
# 101 (880 Hz). Checked: 100 registered (the PBX's contact is the LAN
# element's private address), the call connects, each phone heard the
# other's tone, the phone's SRTP is on, and tshark shows no SIP in clear
# on the phone <-> WAN hop nor on the WAN <-> LAN hop (TLS records
# instead), and no UDP signalling on them at all.
#
# On loopback every outgoing TCP connection toward 127.x leaves from
# 127.0.0.1 unless the program binds it: the LAN element serves only
# sbc_wan_peer, so the WAN element must connect from its private address.
# libre 1.1.0 does not bind outgoing TCP connections, so the test adds a
# local route making the kernel pick 127.0.21.1 as the source toward
# 127.0.22.1, as routing does on real interfaces (the LAN element sits on
# the WAN element's private network), and deletes it on exit.
# CHAIN_SRC_ROUTE=0 leaves the routing alone (the chain then fails: the
# LAN element drops a WAN element connecting from 127.0.0.1).

# ua_start sets SIP_<name> and friends with printf -v
# shellcheck disable=SC2154

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baresip.sh"
. "$(dirname "$0")/kamailio/pki.sh"

command -v baresip >/dev/null ||
	die "baresip not installed (scripts/deps.sh test)"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

PHONE_IP=127.0.10.1
WAN_PUB=127.0.20.1
WAN_PRIV=127.0.21.1
LAN_PUB=127.0.22.1
LAN_PRIV=127.0.30.1
PBX_IP=127.0.40.1
DESK_IP=127.0.40.2
port_pref WAN_PORT 5063 || die "no free port"
port_pref CHAIN_PORT 5065 || die "no free port"
free_port WAN_PRIV_PORT || die "no free port"
port_pref LAN_PRIV_PORT 5064 || die "no free port"
port_pref PBX_PORT 5060 || die "no free port"
port_pref PBX_TLS 5061 || die "no free port"

if [ "${CHAIN_SRC_ROUTE:-1}" = 1 ]; then
	ip route add local "$LAN_PUB" dev lo src "$WAN_PRIV" table local ||
		die "cannot add the source route"
	trap 'rc=$?; ip route del local "$LAN_PUB" dev lo src "$WAN_PRIV" \
		table local; (exit $rc); cleanup' EXIT
fi

# ---- test PKI ------------------------------------------------------------
PKI="$WORKDIR/pki"
mkdir -p "$PKI"
make_chain_pki()
{
	pki_ca "$PKI" ca "Relais chain test CA" &&
		pki_leaf "$PKI" wan ca wan.sbc.test \
			"DNS:wan.sbc.test,IP:$WAN_PUB,IP:$WAN_PRIV" &&
		pki_leaf "$PKI" lan ca lan.sbc.test \
			"DNS:lan.sbc.test,IP:$LAN_PUB,IP:$LAN_PRIV" &&
		pki_leaf "$PKI" pbx ca pbx.sbc.test \
			"DNS:pbx.sbc.test,IP:$PBX_IP" || return 1
	local n
	for n in wan lan pbx; do
		cat "$PKI/$n.key" "$PKI/$n.crt" "$PKI/ca.pem" >"$PKI/$n.pem"
	done
	chmod 600 "$PKI"/*.key "$PKI"/*.pem
}
make_chain_pki >"$PKI/openssl.log" 2>&1 || {
	cat "$PKI/openssl.log"
	die "openssl cannot make the test PKI"
}

# ---- the three relaisd -------------------------------------------------------
free_range 400 WAN_RTP_MIN WAN_RTP_MAX || die "no free RTP range"
free_range 400 LAN_RTP_MIN LAN_RTP_MAX || die "no free RTP range"
free_range 40 PBX_RTP_MIN PBX_RTP_MAX || die "no free RTP range"

mkdir -p "$WORKDIR/pbx" "$WORKDIR/lan" "$WORKDIR/wan"
cp "$PKI/pbx.pem" "$WORKDIR/pbx/tls.pem"
cp "$PKI/lan.pem" "$WORKDIR/lan/tls.pem"
cp "$PKI/wan.pem" "$WORKDIR/wan/tls.pem"

sbc_pbx_off
node_start pbx \
	"sip_udp_listen = $PBX_IP:$PBX_PORT" \
	"sip_tls_listen = $PBX_IP:$PBX_TLS" \
	"tls_ca = $PKI/ca.pem" \
	"media_address = $PBX_IP" \
	"rtp_port_min = $PBX_RTP_MIN" "rtp_port_max = $PBX_RTP_MAX"
nctl pbx extension add 100 --name "Remote 100" --password "$PW100" \
	>/dev/null || die "relaisctl extension add 100"
nctl pbx extension add 101 --name "Desk 101" --password "$PW101" \
	>/dev/null || die "relaisctl extension add 101"

node_start lan \
	"tls_ca = $PKI/ca.pem" \
	"sbc_mode = lan" \
	"sbc_public_interface = $LAN_PUB" \
	"sbc_public_port = $CHAIN_PORT" \
	"sbc_public_transports = tls" \
	"sbc_wan_peer = $WAN_PRIV" \
	"sbc_private_interface = $LAN_PRIV" \
	"sbc_private_port = $LAN_PRIV_PORT" \
	"sbc_private_transports = tls" \
	"sbc_pbx = $PBX_IP:$PBX_TLS" \
	"sbc_pbx_transport = tls" \
	"sbc_rtp_port_min = $LAN_RTP_MIN" "sbc_rtp_port_max = $LAN_RTP_MAX" \
	"${SBC_PBX_OFF[@]}"

node_start wan \
	"tls_ca = $PKI/ca.pem" \
	"sbc_mode = wan" \
	"sbc_public_interface = $WAN_PUB" \
	"sbc_public_transports = tls" \
	"sbc_public_port = $WAN_PORT" \
	"sbc_private_interface = $WAN_PRIV" \
	"sbc_private_port = $WAN_PRIV_PORT" \
	"sbc_private_transports = tls" \
	"sbc_pbx = $LAN_PUB:$CHAIN_PORT" \
	"sbc_pbx_transport = tls" \
	"sbc_rtp_port_min = $WAN_RTP_MIN" "sbc_rtp_port_max = $WAN_RTP_MAX" \
	"${SBC_PBX_OFF[@]}"

tcp_listening()
{
	[ -n "$(ss -Hlnt "( src $1 and sport = :$2 )" 2>/dev/null)" ]
}
check "the LAN element listens for TLS on $LAN_PUB:$CHAIN_PORT" \
	wait_for 50 0.1 tcp_listening "$LAN_PUB" "$CHAIN_PORT"
check "the WAN element listens for TLS on $WAN_PUB:$WAN_PORT" \
	wait_for 50 0.1 tcp_listening "$WAN_PUB" "$WAN_PORT"
n=$(ss -Hlnu "( src $WAN_PUB and sport = :$WAN_PORT )" 2>/dev/null | wc -l)
expect_eq "no UDP on the WAN element's TLS-only public side" 0 "$n"

sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone100.wav" synth 40 sine 440 vol 0.5 ||
	die "sox cannot make the tone"
sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone101.wav" synth 40 sine 880 vol 0.5

# one capture a hop (libre may connect from 127.0.0.1: ports, not
# addresses, tell the hops apart)
capture_start hop1 "port $WAN_PORT" || fail "tshark did not start capturing"
HOP1_CAPTURE=$CAPTURE_PID
capture_start hop2 "port $CHAIN_PORT or port $WAN_PRIV_PORT" || fail "tshark did not start capturing"
HOP2_CAPTURE=$CAPTURE_PID

# ---- phones ------------------------------------------------------------------
UA_IP=$DESK_IP ua_start desk "sip:101@$PBX_IP:$PBX_TLS;transport=tls" \
	"auth_pass=$PW101;regint=300;answermode=auto;mediaenc=srtp-mand" \
	"$WORKDIR/tone101.wav"
UA_IP=$PHONE_IP ua_start remote \
	"sip:100@$WAN_PUB:$WAN_PORT;transport=tls" \
	"auth_pass=$PW100;regint=300;answermode=auto;mediaenc=srtp-mand" \
	"$WORKDIR/tone100.wav"

registered()
{
	nctl pbx --json registrations --ext "$1" | json_query 'len(j)' |
		grep -qx '[1-9][0-9]*'
}
check "101 registered at the PBX over TLS" wait_for 100 0.1 registered 101
if wait_for 150 0.1 registered 100; then
	pass "100 registered over TLS through the WAN and LAN elements"
else
	fail "100 did not register through the chain"
fi
c100=$(nctl pbx --json registrations --ext 100 |
	json_query "[c['uri'] for c in j]")
echo "     PBX contact of 100: $c100"
case "$c100" in
*"$LAN_PRIV"*) pass "the PBX reaches 100 at the LAN element's private side" ;;
*) fail "the PBX's contact of 100 is not the LAN element's: '$c100'" ;;
esac

pbx_call_state()
{
	nctl pbx --json calls --active | json_query '[c["state"] for c in j][:1]'
}

connected()
{
	[ "$(pbx_call_state)" = connected ]
}

no_call()
{
	[ "$(nctl pbx --json calls --active | json_query 'len(j)')" = 0 ]
}

# ---- the call -------------------------------------------------------------------
cmd remote "/dial 101"
if wait_for 150 0.1 connected; then
	pass "100 -> 101 through both elements: connected"
	sleep 3 # audio both ways, measured below
else
	fail "the call is not connected (state '$(pbx_call_state)')"
fi
cmd remote "/hangup"
check "the call ended" wait_for 100 0.1 no_call
sleep 0.5 # recordings closed
check "101 heard the remote phone's 440 Hz tone" ua_heard desk 440
check "the remote phone heard 101's 880 Hz tone" ua_heard remote 880

# the other way: the PBX calls the remote worker through the LAN element,
# which connects to the WAN element's private listener (TLS, its
# certificate checked against sbc_wan_peer)
cmd desk "/dial 100"
if wait_for 150 0.1 connected; then
	pass "101 -> 100 through both elements: connected"
else
	fail "the PBX's call to the remote worker is not connected" \
		"(state '$(pbx_call_state)')"
fi
cmd desk "/hangup"
check "the second call ended" wait_for 100 0.1 no_call
sleep 0.5
kill_pid "$HOP1_CAPTURE"
kill_pid "$HOP2_CAPTURE"
ua_stop remote
ua_stop desk

check "the remote phone's SRTP is on" \
	grep -q "SRTP is Enabled" "$WORKDIR/ua-remote/out.txt"

# ---- no SIP in clear on the two outer hops ------------------------------------------
read -r sip _ < <(capture_leaks hop1 '.*' x)
expect_eq "phone <-> WAN element: no SIP in clear" 0 "${sip:-1}"
read -r sip _ < <(capture_leaks hop2 '.*' x)
expect_eq "WAN element <-> LAN element: no SIP in clear" 0 "${sip:-1}"
n=$(tshark -r "$WORKDIR/hop1.pcap" -d "tcp.port==$WAN_PORT,tls" \
	-Y tls.app_data 2>/dev/null | wc -l)
check "TLS records between the phone and the WAN element ($n)" \
	test "$n" -gt 3
n=$(tshark -r "$WORKDIR/hop2.pcap" -d "tcp.port==$CHAIN_PORT,tls" \
	-Y tls.app_data 2>/dev/null | wc -l)
check "TLS records between the WAN and LAN elements ($n)" test "$n" -gt 3
n=$(($(tshark -r "$WORKDIR/hop1.pcap" -Y udp 2>/dev/null | wc -l) +
	$(tshark -r "$WORKDIR/hop2.pcap" -Y udp 2>/dev/null | wc -l)))
expect_eq "no UDP signalling on the two hops" 0 "$n"

for n in wan lan pbx; do
	check "relaisd $n still running" node_alive "$n"
done
if [ "$TESTS_FAILED" -ne 0 ]; then
	nodes_show wan lan pbx
	for n in remote desk; do
		echo "---- $WORKDIR/ua-$n/out.txt (last 25 lines)"
		tail -n 25 "$WORKDIR/ua-$n/out.txt" 2>/dev/null | sed 's/^/    /'
	done
fi
finish
