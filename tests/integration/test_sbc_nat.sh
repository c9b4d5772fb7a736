#!/usr/bin/env bash
#
# test_sbc_nat.sh: a phone behind a real NAT registers and calls through
# relaisd as an SBC
#
# Network namespaces made here (root needed):
#   rphone.PID  10.10.1.2/24, default route via 10.10.1.1: the phone
#   rnat.PID    10.10.1.1/24 toward the phone, 198.51.100.2/24 toward the
#               SBC; nftables masquerades what leaves toward the SBC and,
#               unless NAT_KEEP_PORTS=1, maps source ports to 40000-49999
#               (so the SIP and RTP ports the SBC sees are not the phone's)
#   root        198.51.100.1/24 on a veth: the SBC's public side (IP2);
#               private side 127.0.30.1, PBX (a second relaisd) 127.0.40.1,
#               both on loopback. (198.51.100.0/24, TEST-NET-2: this
#               machine's own network may be 192.0.2.0/24.)
# A baresip phone (100, 440 Hz tone) in rphone registers through the NAT
# to the SBC (NAT_TRANSPORT=udp, the default, or tls); a baresip phone
# (101, 880 Hz) on 127.0.40.2 registers at the PBX. 100 calls 101, then
# 101 calls 100. Checked: both calls connected, each phone heard the
# other's tone in both calls (recordings loud, frequency within 10 %),
# RTP between the NAT's public address and the SBC's relay ports both
# ways on the veth, no phone address (10.10.1.x) in anything the SBC sends
# to the PBX, no private address in anything it sends to the phone. Over
# TLS the phone uses SRTP (mediaenc=srtp-mand: sbc_public_srtp auto
# enforces it on TLS). Every
# process started in a namespace is stopped by PID; the namespaces and the
# veth are deleted on exit, whatever the path.

. "$(dirname "$0")/lib.sh"

command -v baresip >/dev/null ||
	die "baresip not installed (scripts/deps.sh test)"
command -v nft >/dev/null || die "nft not installed (scripts/deps.sh test)"
[ "$(id -u)" = 0 ] || die "network namespaces need root"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'
TP=${NAT_TRANSPORT:-udp}
DOM=sbc.relais.test # the phone's domain; the SBC is its outbound proxy

NS_PHONE="rphone.$$"
NS_NAT="rnat.$$"
VETH_ROOT="sbcn$$" # root side of the veth toward the NAT (<= 15 chars)
PHONE_IP=10.10.1.2
NAT_IN=10.10.1.1
NAT_OUT=198.51.100.2
SBC_PUB=198.51.100.1
SBC_PRIV=127.0.30.1
PBX_IP=127.0.40.1
LAN_IP=127.0.40.2
port_pref PBX_PORT 5060 || die "no free port"
port_pref SBC_PORT 5063 || die "no free port"
port_pref PRIV_PORT 5064 || die "no free port"
NS_PIDS=()

ns_cleanup()
{
	local pid
	for pid in "${NS_PIDS[@]}"; do
		kill_pid "$pid"
	done
	ip netns del "$NS_PHONE" 2>/dev/null
	ip netns del "$NS_NAT" 2>/dev/null
	ip link del "$VETH_ROOT" 2>/dev/null
	return 0
}
# the namespaces go first, then lib.sh's cleanup (with the exit status)
trap 'rc=$?; ns_cleanup; (exit $rc); cleanup' EXIT

# ---- the network ---------------------------------------------------------
net_setup()
{
	ip netns add "$NS_PHONE" && ip netns add "$NS_NAT" &&
		ip link add vph netns "$NS_PHONE" type veth \
			peer name vnl netns "$NS_NAT" &&
		ip link add "$VETH_ROOT" type veth peer name vnw \
			netns "$NS_NAT" &&
		ip addr add "$SBC_PUB/24" dev "$VETH_ROOT" &&
		ip link set "$VETH_ROOT" up &&
		ip -n "$NS_NAT" addr add "$NAT_IN/24" dev vnl &&
		ip -n "$NS_NAT" addr add "$NAT_OUT/24" dev vnw &&
		ip -n "$NS_NAT" link set vnl up &&
		ip -n "$NS_NAT" link set vnw up &&
		ip -n "$NS_NAT" link set lo up &&
		ip -n "$NS_PHONE" addr add "$PHONE_IP/24" dev vph &&
		ip -n "$NS_PHONE" link set vph up &&
		ip -n "$NS_PHONE" link set lo up &&
		ip -n "$NS_PHONE" route add default via "$NAT_IN" &&
		ip netns exec "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1 || return 1

	local to=" to :40000-49999"
	[ "${NAT_KEEP_PORTS:-0}" = 1 ] && to=
	ip netns exec "$NS_NAT" nft -f - <<EOF
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "vnw" meta l4proto { tcp, udp } masquerade$to
		oifname "vnw" masquerade
	}
}
EOF
}
net_setup >"$WORKDIR/net.log" 2>&1 || {
	cat "$WORKDIR/net.log"
	die "cannot set up the namespaces and the NAT"
}
# the NAT works: a datagram from the phone arrives from the NAT's address
probe=$(
	timeout 5 "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
s.settimeout(4)
d, a = s.recvfrom(100)
print(a[0])
' "$SBC_PUB" | {
		read -r port
		ip netns exec "$NS_PHONE" "$PYTHON" -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x",
    (sys.argv[1], int(sys.argv[2])))' "$SBC_PUB" "$port"
		cat
	}
)
expect_eq "the NAT masquerades the phone's packets" "$NAT_OUT" "$probe"

# ---- PBX and SBC -----------------------------------------------------------
free_range 400 SBC_RTP_MIN SBC_RTP_MAX || die "no free RTP range"
free_range 40 PBX_RTP_MIN PBX_RTP_MAX || die "no free RTP range"
sbc_pbx_off
node_start pbx \
	"sip_udp_listen = $PBX_IP:$PBX_PORT" \
	"sip_tcp_listen = $PBX_IP:$PBX_PORT" \
	"media_address = $PBX_IP" \
	"rtp_port_min = $PBX_RTP_MIN" "rtp_port_max = $PBX_RTP_MAX"
nctl pbx extension add 100 --name "Home 100" --password "$PW100" \
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
	"sbc_symmetric_rtp = yes" \
	"sbc_rtp_port_min = $SBC_RTP_MIN" "sbc_rtp_port_max = $SBC_RTP_MAX" \
	"${SBC_PBX_OFF[@]}"

sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone100.wav" synth 40 sine 440 vol 0.5 ||
	die "sox cannot make the tone"
sox -n -r 8000 -c 1 -b 16 "$WORKDIR/tone101.wav" synth 40 sine 880 vol 0.5

# ---- the phones ------------------------------------------------------------
# nat_phone: baresip as 100 in the phone's namespace (config as ua_start's)
NAT_DIR="$WORKDIR/ua-nat"
nat_phone()
{
	# the phone's domain, the SBC as its outbound proxy: the digest uri
	# (which the SBC cannot rewrite) names the domain, not the SBC
	local proxy="sip:$SBC_PUB:$SBC_PORT;transport=$TP" enc=
	# a remote worker over TLS gets SRTP (sbc_public_srtp auto)
	[ "$TP" = tls ] && enc=";mediaenc=srtp-mand"
	mkdir -p "$NAT_DIR/rec"
	{
		echo "module_path /usr/lib/baresip/modules"
		echo "net_interface $PHONE_IP"
		echo "sip_listen $PHONE_IP:5070"
		echo "rtp_ports 16000-16019"
		echo "audio_source aufile,$WORKDIR/tone100.wav"
		echo "audio_player aubridge,nowhere_nat"
		echo "snd_path $NAT_DIR/rec"
		echo "cons_listen 127.0.0.1:5555"
		echo "module g711.so"
		echo "module srtp.so"
		echo "module aufile.so"
		echo "module aubridge.so"
		echo "module sndfile.so"
		echo "module cons.so"
		echo "module_app menu.so"
		echo "module_app account.so"
	} >"$NAT_DIR/config"
	printf '%s;%s\n' "<sip:100@$DOM;transport=$TP>" \
		"auth_pass=$PW100;outbound=\"$proxy\";regint=300;answermode=auto$enc" \
		>"$NAT_DIR/accounts"
	# `ip netns exec` execs baresip: the PID is baresip's
	ip netns exec "$NS_PHONE" baresip -f "$NAT_DIR" >"$NAT_DIR/out.txt" \
		2>&1 </dev/null &
	NS_PIDS+=("$!")
	track $!
}

nat_cmd()
{
	ip netns exec "$NS_PHONE" bash -c \
		"printf '%s\n' '$1' >/dev/udp/127.0.0.1/5555"
}

lan_phone()
{
	local dir="$WORKDIR/ua-lan" sip sipend cons rmin rmax
	mkdir -p "$dir/rec"
	free_range 4 sip sipend || die "no free ports"
	free_port cons || die "no free port"
	free_range 20 rmin rmax || die "no free ports"
	LAN_CONS=$cons
	{
		echo "module_path /usr/lib/baresip/modules"
		echo "net_interface $LAN_IP"
		echo "sip_listen $LAN_IP:$sip"
		echo "rtp_ports $rmin-$rmax"
		echo "audio_source aufile,$WORKDIR/tone101.wav"
		echo "audio_player aubridge,nowhere_lan"
		echo "snd_path $dir/rec"
		echo "cons_listen 127.0.0.1:$cons"
		echo "module g711.so"
		echo "module aufile.so"
		echo "module aubridge.so"
		echo "module sndfile.so"
		echo "module cons.so"
		echo "module_app menu.so"
		echo "module_app account.so"
	} >"$dir/config"
	printf '%s;%s\n' "<sip:101@$PBX_IP:$PBX_PORT>" \
		"auth_pass=$PW101;regint=300;answermode=auto" >"$dir/accounts"
	baresip -f "$dir" >"$dir/out.txt" 2>&1 </dev/null &
	LAN_PID=$!
	track $!
}

lan_cmd()
{
	printf '%s\n' "$1" >"/dev/udp/127.0.0.1/$LAN_CONS"
}

registered()
{
	nctl pbx --json registrations --ext "$1" | json_query 'len(j)' |
		grep -qx '[1-9][0-9]*'
}

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

capture_start_if "$VETH_ROOT" wan "host $SBC_PUB" ||
	fail "tshark did not start capturing on $VETH_ROOT"
WAN_CAPTURE=$CAPTURE_PID
capture_start lan "host $SBC_PRIV and (port $PRIV_PORT or
	portrange $SBC_RTP_MIN-$SBC_RTP_MAX)" || fail "tshark did not start on lo"
LAN_CAPTURE=$CAPTURE_PID

lan_phone
nat_phone
check "101 registered at the PBX" wait_for 100 0.1 registered 101
if wait_for 150 0.1 registered 100; then
	pass "100 registered from behind the NAT through the SBC ($TP)"
else
	fail "100 did not register through the NAT and the SBC"
fi
c100=$(nctl pbx --json registrations --ext 100 |
	json_query "[c['uri'] for c in j]")
echo "     PBX contact of 100: $c100"
case "$c100" in
*"$SBC_PRIV"*) pass "the PBX reaches 100 at the SBC's private side" ;;
*) fail "the PBX's contact of 100 is not the SBC's: '$c100'" ;;
esac

# ---- call 1: 100 (behind the NAT) -> 101 -----------------------------------
nat_cmd "/dial 101"
if wait_for 150 0.1 connected; then
	pass "call 1 (NAT phone -> LAN phone) connected"
	sleep 3 # audio both ways, measured below
else
	fail "call 1 not connected (state '$(pbx_call_state)')"
fi
nat_cmd "/hangup"
check "call 1 ended" wait_for 100 0.1 no_call

# ---- call 2: 101 -> 100 (through the SBC and the NAT) ------------------------
lan_cmd "/dial 100"
if wait_for 150 0.1 connected; then
	pass "call 2 (LAN phone -> NAT phone) connected"
	sleep 3
else
	fail "call 2 not connected (state '$(pbx_call_state)')"
fi
lan_cmd "/hangup"
check "call 2 ended" wait_for 100 0.1 no_call
sleep 0.5
kill_pid "$WAN_CAPTURE"
kill_pid "$LAN_CAPTURE"
# the phones close their recordings when they stop
kill_pid "$LAN_PID"
for pid in "${NS_PIDS[@]}"; do
	kill_pid "$pid"
done

# ---- what went over the wire ---------------------------------------------------
capture_flows wan
RANGE="$SBC_RTP_MIN-$SBC_RTP_MAX"
n=$(flows_count wan "${NAT_OUT//./\\.}" "${SBC_PUB//./\\.}" 0-65535 "$RANGE")
check "RTP NAT -> SBC relay ports: $n packets" test "$n" -gt 200
n=$(flows_count wan "${SBC_PUB//./\\.}" "${NAT_OUT//./\\.}" "$RANGE")
check "RTP SBC relay ports -> NAT: $n packets" test "$n" -gt 200
if [ "${NAT_KEEP_PORTS:-0}" != 1 ]; then
	n=$(flows_count wan "${NAT_OUT//./\\.}" "${SBC_PUB//./\\.}" \
		40000-49999 "$RANGE")
	check "the NAT changed the phone's RTP source ports ($n packets)" \
		test "$n" -gt 200
fi
read -r sip leaks < <(capture_leaks wan "${NAT_OUT//./\\.}" \
	'127\.0\.(30|40)\.[0-9]+')
if [ "$TP" = udp ]; then
	check "SIP between the NAT and the SBC captured ($sip)" \
		test "${sip:-0}" -ge 6
fi
expect_eq "no private address in anything the SBC sent to the phone" \
	0 "${leaks:-1}"
read -r sip leaks < <(capture_leaks lan "${SBC_PRIV//./\\.}" \
	'10\.10\.1\.[0-9]+|198\.51\.100\.[0-9]+')
check "SIP between the SBC and the PBX captured ($sip)" test "${sip:-0}" -ge 6
expect_eq "no phone or NAT address in anything the SBC sent to the PBX" \
	0 "${leaks:-1}"
[ "${leaks:-0}" != 0 ] && head -n 30 "$WORKDIR/lan.leaks" | sed 's/^/    /'

# ---- what the phones heard -------------------------------------------------------
# heard DIR HZ: both recordings in DIR/rec are loud and near HZ
heard()
{
	local f st rms freq ok=0 n=0

	for f in "$1"/rec/*-dec.wav; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		st=$(sox "$f" -n stat 2>&1)
		rms=$(echo "$st" | awk '/RMS +amplitude/ { print $3 }')
		freq=$(echo "$st" | awk '/Rough +frequency/ { print $3 }')
		echo "     $(basename "$1") heard $(basename "$f"): RMS $rms, ~$freq Hz"
		if awk -v r="$rms" -v f="$freq" -v hz="$2" \
			'BEGIN { exit !(r > 0.05 && f > hz * 0.9 && f < hz * 1.1) }'; then
			ok=$((ok + 1))
		fi
	done
	[ "$n" -eq 2 ] && [ "$ok" -eq 2 ]
}
check "the NAT phone heard 101's 880 Hz tone in both calls" \
	heard "$NAT_DIR" 880
check "101 heard the NAT phone's 440 Hz tone in both calls" \
	heard "$WORKDIR/ua-lan" 440

check "SBC still running" node_alive sbc
check "PBX still running" node_alive pbx
if [ "$TESTS_FAILED" -ne 0 ]; then
	nodes_show sbc pbx
	echo "---- NAT phone (last 25 lines)"
	tail -n 25 "$NAT_DIR/out.txt" 2>/dev/null | sed 's/^/    /'
fi
finish
