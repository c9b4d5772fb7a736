#!/usr/bin/env bash
#
# test_trunk_media.sh: media through a carrier trunk, with real baresip
# peers on both sides (phone 100 and a baresip acting as the carrier)
#
# Outbound rule prefix 0, strip 1, prepend +33: phone 100 dials 0142000000
# and the carrier baresip, whose only account is +33142000000 (no
# registration, auto-answer), answers. The tones: phone 440 Hz, carrier
# 880 Hz; each side records what it hears (sndfile).
#  1. SRTP toward the trunk: the carrier takes calls over TLS only with
#     mandatory SRTP (mediaenc=srtp-mand); the trunk is TLS with SRTP
#     enforced and PCMA; relaisd verifies the carrier's certificate (a
#     test CA made here with openssl, subjectAltName IP:127.0.0.2) against
#     tls_ca. Checked: connected, each side heard the other's tone, no SIP
#     in clear toward the carrier, the carrier says SRTP is on, relaisd
#     logged "SRTP toward the callee", and on the wire the carrier leg
#     carries PCMA RTP headers with 10-byte HMAC-SHA1-80 tags and payloads
#     that never repeat (encrypted), while the phone's plain tone repeats.
#     Then with the trunk's SRTP disabled, the carrier refuses the plain
#     RTP offer (488) and relaisd logs it.
#  2. Transcoding: phone 100 has only G.722, the carrier (UDP, plain RTP)
#     only G.711, the trunk PCMA: relaisd transcodes G.722 <-> PCMA; the
#     wire shows PT 9 on the phone leg and PT 8 on the carrier leg, each
#     side heard the other's tone, relaisd logged "transcoding G722 <->
#     PCMA".
#  3. The reverse of 1: phone 100 registers over TLS with mandatory SRTP,
#     the carrier is plain RTP over UDP: audio both ways, SRTP on the phone
#     leg only.
#  4. Inbound from the SRTP trunk: the carrier of case 1 (TLS, mandatory
#     SRTP) dials our DID over TLS to relaisd (through a TCP relay that
#     gives the connection the source 127.0.0.2); relaisd knows the
#     trunk by the source address 127.0.0.2, matches the inbound rule and
#     rings phone 100 (plain RTP over UDP), which it must offer RTP/AVP,
#     not the carrier's RTP/SAVP. Checked: connected, each side heard the
#     other's tone, relaisd logged "SRTP toward the caller", SRTP on the
#     carrier leg and plain PCMA/PCMU (no tag) on the phone leg.
# G.729 is not covered here: Debian has no baresip G.729 module; the unit
# tests of the codec and relay cover G.729 <-> PCMA.

# ua_start sets SIP_<name>, RTP_<name>_MIN, ... with printf -v
# shellcheck disable=SC2154

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/baresip.sh"

command -v baresip >/dev/null ||
	die "baresip not installed (scripts/deps.sh test)"

PW100='Blue7-Otter-Kx'
NUMBER=0142000000
# The carrier has an address of its own, as carriers do: relaisd knows an
# IP trunk by its source address alone, so a carrier on 127.0.0.1 would
# take phone 100's INVITEs for inbound calls (any of 127/8 is loopback)
CARRIER_IP=127.0.0.2
CARRIER_AOR="sip:+33142000000@$CARRIER_IP"
HZ_PHONE=440
HZ_CARRIER=880
SUITE=AES_CM_128_HMAC_SHA1_80

# ---- test PKI: a CA and the carrier's certificate ---------------------------
PKI="$WORKDIR/pki"
mkdir -p "$PKI"
make_pki()
{
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
		-keyout "$PKI/ca.key" -out "$PKI/ca.pem" \
		-subj "/CN=Relais test carrier CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -newkey rsa:2048 -nodes -sha256 \
			-keyout "$PKI/carrier.key" -out "$PKI/carrier.csr" \
			-subj "/CN=carrier.test" &&
		printf '%s\n' "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth,clientAuth" \
			"subjectAltName=IP:$CARRIER_IP" >"$PKI/carrier.ext" &&
		openssl x509 -req -in "$PKI/carrier.csr" -CA "$PKI/ca.pem" \
			-CAkey "$PKI/ca.key" -CAcreateserial -sha256 -days 2 \
			-extfile "$PKI/carrier.ext" -out "$PKI/carrier.crt" &&
		cat "$PKI/carrier.crt" "$PKI/carrier.key" >"$PKI/carrier.pem"
}
make_pki >"$PKI/openssl.log" 2>&1 || {
	cat "$PKI/openssl.log"
	die "openssl cannot make the test CA and certificate"
}

RELAIS_EXTRA_CONF="tls_ca = $PKI/ca.pem"
relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"

sox -n -r 8000 -c 1 -b 16 "$WORKDIR/phone8k.wav" synth 40 sine $HZ_PHONE \
	vol 0.5 || die "sox cannot make the tone"
sox -n -r 16000 -c 1 -b 16 "$WORKDIR/phone16k.wav" synth 40 sine $HZ_PHONE \
	vol 0.5
sox -n -r 8000 -c 1 -b 16 "$WORKDIR/carrier8k.wav" synth 40 sine \
	$HZ_CARRIER vol 0.5

# ---- helpers ------------------------------------------------------------

# active FIELD: FIELD of the active call
active()
{
	ctl --json calls --active | json_query "[c['$1'] for c in j][:1]"
}

# log_since LINE PATTERN: relaisd logged PATTERN after line LINE
log_since()
{
	tail -n +"$(($1 + 1))" "$RELAIS_LOG" | grep -qE "$2"
}

log_lines()
{
	wc -l <"$RELAIS_LOG"
}

# rtp_stats CAPTURE PORT src|dst: RTP packets sent from (src) or to (dst)
# relaisd's port PORT, decoded as RTP whatever their content; prints
# "packets PT payload-length distinct-payloads" (most common PT and length)
rtp_stats()
{
	tshark -r "$WORKDIR/$1.pcap" -d "udp.port==$2,rtp" \
		-Y "rtp.version == 2 && udp.$3port == $2" \
		-T fields -e rtp.p_type -e rtp.payload 2>/dev/null |
		awk -F '\t' '
		{
			p = $2
			gsub(":", "", p)
			n++
			pt[$1]++
			len[length(p) / 2]++
			if (!(p in seen)) {
				seen[p] = 1
				d++
			}
		}
		function top(a,   k, best, bk) {
			best = -1
			bk = "-"
			for (k in a)
				if (a[k] > best) {
					best = a[k]
					bk = k
				}
			return bk
		}
		END { printf "%d %s %s %d\n", n, top(pt), top(len), d }'
}

# leg NAME CAPTURE PORT DIR PT LEN srtp|rtp|any: RTP on one direction of
# a leg has payload type PT ("0|8": either) and payloads of LEN bytes
# (SRTP: the codec's bytes plus a 10-byte tag); SRTP payloads never repeat,
# while a G.711 tone's do (the tones are periodic over 5 packets); "any":
# not checked (G.722 is adaptive, its frames need not repeat)
leg()
{
	local what=$1 s n pt len d
	s=$(rtp_stats "$2" "$3" "$4")
	read -r n pt len d <<<"$s"
	echo "     $what: $n packets, PT $pt, $len bytes, $d distinct"
	if [ "$n" -lt 50 ]; then
		fail "$what: only $n RTP packets"
		return
	fi
	case "|$5|" in
	*"|$pt|"*) pass "$what: payload type $pt" ;;
	*) fail "$what: payload type $pt, expected $5" ;;
	esac
	expect_eq "$what: payload length" "$6" "$len"
	case "$7" in
	srtp)
		check "$what: payloads encrypted (all $n distinct: $d)" \
			test "$d" -ge $((n * 98 / 100))
		;;
	rtp)
		check "$what: plain tone payloads repeat ($d distinct of $n)" \
			test "$d" -le $((n / 2))
		;;
	esac
}

# outbound_call NAME: NAME dials the carrier's number; wait until
# connected, let 3 s of audio flow, note relaisd's ports, hang up
outbound_call()
{
	cmd "$1" "/dial $NUMBER"
	if ! wait_for 150 0.1 connected; then
		fail "$1 -> $NUMBER: the call is not connected (state:" \
			"'$(call_state)')"
		cmd "$1" "/hangup"
		return 1
	fi
	pass "$1 -> $NUMBER through the trunk: connected"
	PORT_A=$(active port_a)
	PORT_B=$(active port_b)
	echo "     relaisd RTP ports: phone side $PORT_A, carrier side $PORT_B"
	sleep 3 # audio both ways, measured below
	cmd "$1" "/hangup"
	check "$1's call ended" wait_for 100 0.1 no_call
}

show_ua()
{
	echo "---- $WORKDIR/ua-$1/out.txt (last 25 lines)"
	tail -n 25 "$WORKDIR/ua-$1/out.txt" 2>/dev/null | sed 's/^/    /'
}

# ---- outbound rule and trunk --------------------------------------------
# the carrier of case 1: TLS only matters, UDP on SIP_carrier1, TLS on +1
UA_IP=$CARRIER_IP ua_start carrier1 "$CARRIER_AOR" \
	"regint=0;answermode=auto;mediaenc=srtp-mand" \
	"$WORKDIR/carrier8k.wav" "sip_certificate $PKI/carrier.pem"
CARRIER_TLS=$((SIP_carrier1 + 1))

ctl trunk add carrier --kind ip --host "$CARRIER_IP" \
	--port "$CARRIER_TLS" --transport tls --srtp enforced \
	--codecs PCMA,telephone-event --options-interval 0 \
	>"$WORKDIR/trunk.out" 2>&1 || {
	cat "$WORKDIR/trunk.out"
	die "relaisctl trunk add carrier"
}
ctl outbound add --name national --prefix 0 --route carrier:1:+33 \
	>"$WORKDIR/outbound.out" 2>&1 || {
	cat "$WORKDIR/outbound.out"
	die "relaisctl outbound add national"
}

# ==== 1. plain RTP phone, SRTP over TLS toward the carrier ==================
echo "# 1. SRTP toward the trunk"
ua_start p1 "sip:100@127.0.0.1:$RELAIS_SIP_PORT" \
	"auth_pass=$PW100;regint=300;answermode=auto" "$WORKDIR/phone8k.wav"
check "the carrier listens for TLS on $CARRIER_TLS" \
	wait_for 100 0.1 ua_listening carrier1 tls
check "phone 100 registered (UDP)" wait_for 100 0.1 ua_registered 100 p1

capture_start rtp1 "udp and portrange $RELAIS_RTP_MIN-$RELAIS_RTP_MAX" ||
	fail "tshark did not start capturing RTP"
RTP_CAPTURE=$CAPTURE_PID
capture_start tls1 "tcp port $CARRIER_TLS" ||
	fail "tshark did not start capturing TLS"
TLS_CAPTURE=$CAPTURE_PID

MARK=$(log_lines)
if outbound_call p1; then
	kill_pid "$RTP_CAPTURE"
	kill_pid "$TLS_CAPTURE"
	check "relaisd logged SRTP toward the carrier" \
		log_since "$MARK" "SRTP toward the callee"
	check "the carrier's SRTP is on ($SUITE)" \
		grep -qF "SRTP is Enabled (cryptosuite=$SUITE)" \
		"$WORKDIR/ua-carrier1/out.txt"
	n=$(tshark -r "$WORKDIR/tls1.pcap" -Y sip 2>/dev/null | wc -l)
	expect_eq "no SIP in clear toward the carrier" 0 "$n"
	n=$(tshark -r "$WORKDIR/tls1.pcap" -Y tls.app_data 2>/dev/null |
		wc -l)
	check "TLS records carried the signalling ($n)" test "$n" -gt 3
	# 20 ms of PCMA: 160 bytes, + 10 bytes of HMAC-SHA1-80 tag in SRTP
	leg "phone -> relaisd (plain)" rtp1 "$PORT_A" dst "0|8" 160 \
		rtp
	leg "relaisd -> carrier (SRTP)" rtp1 "$PORT_B" src 8 170 srtp
	leg "carrier -> relaisd (SRTP)" rtp1 "$PORT_B" dst 8 170 srtp
fi
kill_pid "$RTP_CAPTURE"
kill_pid "$TLS_CAPTURE"
ua_stop p1
check "the carrier heard the phone's $HZ_PHONE Hz tone" \
	ua_heard carrier1 $HZ_PHONE
check "phone 100 heard the carrier's $HZ_CARRIER Hz tone" \
	ua_heard p1 $HZ_CARRIER

# the same carrier, offered plain RTP: it wants SRTP and refuses
echo "# 1b. trunk SRTP disabled: the srtp-mand carrier refuses"
if ctl trunk set carrier --srtp disabled --transport tls \
	>"$WORKDIR/trunkset.out" 2>&1; then
	pass "relaisctl trunk set carrier --srtp disabled"
else
	cat "$WORKDIR/trunkset.out"
	fail "relaisctl trunk set carrier --srtp disabled"
fi
ua_start p1b "sip:100@127.0.0.1:$RELAIS_SIP_PORT" \
	"auth_pass=$PW100;regint=300;answermode=auto" "$WORKDIR/phone8k.wav"
check "phone 100 registered again" wait_for 100 0.1 ua_registered 100 p1b
MARK=$(log_lines)
cmd p1b "/dial $NUMBER"
check "relaisd logged the carrier's 488" \
	wait_for 150 0.1 log_since "$MARK" "488"
check "the carrier refused the plain RTP offer" \
	grep -q "no common audio codecs" "$WORKDIR/ua-carrier1/out.txt"
check "no call left up" wait_for 100 0.1 no_call
n=$(find "$WORKDIR/ua-carrier1/rec" -name '*-dec.wav' | wc -l)
expect_eq "the refused call brought the carrier no audio" 1 "$n"
ua_stop p1b
ua_stop carrier1

# ==== 2. G.722 phone, PCMA carrier: transcoding ============================
echo "# 2. transcoding G.722 <-> PCMA"
UA_IP=$CARRIER_IP ua_start carrier2 "$CARRIER_AOR" \
	"regint=0;answermode=auto" "$WORKDIR/carrier8k.wav"
ctl trunk set carrier --port "$SIP_carrier2" --transport udp \
	--srtp disabled --codecs PCMA,telephone-event \
	>"$WORKDIR/trunkset2.out" 2>&1 || {
	cat "$WORKDIR/trunkset2.out"
	fail "relaisctl trunk set carrier --transport udp"
}
UA_CODECS=g722 ua_start p2 "sip:100@127.0.0.1:$RELAIS_SIP_PORT" \
	"auth_pass=$PW100;regint=300;answermode=auto" "$WORKDIR/phone16k.wav"
check "the carrier listens on UDP $SIP_carrier2" \
	wait_for 100 0.1 ua_listening carrier2 udp
check "phone 100 (G.722 only) registered" \
	wait_for 100 0.1 ua_registered 100 p2

capture_start rtp2 "udp and portrange $RELAIS_RTP_MIN-$RELAIS_RTP_MAX" ||
	fail "tshark did not start capturing RTP"
MARK=$(log_lines)
if outbound_call p2; then
	capture_stop
	check "relaisd logged the transcoding" \
		log_since "$MARK" "transcoding G722 <-> PCMA"
	# G.722 at 64 kbit/s: 160 bytes per 20 ms, as PCMA
	leg "phone -> relaisd (G.722)" rtp2 "$PORT_A" dst 9 160 any
	leg "relaisd -> phone (G.722)" rtp2 "$PORT_A" src 9 160 any
	leg "carrier -> relaisd (PCMA)" rtp2 "$PORT_B" dst 8 160 rtp
	leg "relaisd -> carrier (PCMA)" rtp2 "$PORT_B" src 8 160 any
fi
capture_stop
ua_stop p2
ua_stop carrier2
check "the carrier heard the G.722 phone's $HZ_PHONE Hz tone" \
	ua_heard carrier2 $HZ_PHONE
check "the G.722 phone heard the carrier's $HZ_CARRIER Hz tone" \
	ua_heard p2 $HZ_CARRIER

# ==== 3. SRTP phone over TLS, plain RTP carrier over UDP ====================
echo "# 3. SRTP phone, plain RTP carrier"
UA_IP=$CARRIER_IP ua_start carrier3 "$CARRIER_AOR" \
	"regint=0;answermode=auto" "$WORKDIR/carrier8k.wav"
ctl trunk set carrier --port "$SIP_carrier3" --transport udp \
	--srtp disabled >"$WORKDIR/trunkset3.out" 2>&1 || {
	cat "$WORKDIR/trunkset3.out"
	fail "relaisctl trunk set carrier --port $SIP_carrier3"
}
ua_start p3 "sip:100@127.0.0.1:$RELAIS_TLS_PORT;transport=tls" \
	"auth_pass=$PW100;regint=300;answermode=auto;mediaenc=srtp-mand" \
	"$WORKDIR/phone8k.wav"
check "the carrier listens on UDP $SIP_carrier3" \
	wait_for 100 0.1 ua_listening carrier3 udp
check "phone 100 registered over TLS" \
	wait_for 100 0.1 ua_registered 100 p3

capture_start rtp3 "udp and portrange $RELAIS_RTP_MIN-$RELAIS_RTP_MAX" ||
	fail "tshark did not start capturing RTP"
if outbound_call p3; then
	capture_stop
	check "the phone's SRTP is on" grep -q "SRTP is Enabled" \
		"$WORKDIR/ua-p3/out.txt"
	leg "phone -> relaisd (SRTP)" rtp3 "$PORT_A" dst "0|8" 170 srtp
	leg "relaisd -> phone (SRTP)" rtp3 "$PORT_A" src "0|8" 170 srtp
	leg "carrier -> relaisd (plain)" rtp3 "$PORT_B" dst 8 160 rtp
fi
capture_stop
ua_stop p3
ua_stop carrier3
check "the carrier heard the SRTP phone's $HZ_PHONE Hz tone" \
	ua_heard carrier3 $HZ_PHONE
check "the SRTP phone heard the carrier's $HZ_CARRIER Hz tone" \
	ua_heard p3 $HZ_CARRIER

# ==== 4. inbound: SRTP carrier over TLS -> plain RTP phone ==================
echo "# 4. inbound from the SRTP trunk to a plain RTP phone"
DID=+33142304024
ctl inbound add --name main --did 2304024 --open extension:100 \
	>"$WORKDIR/inbound.out" 2>&1 || {
	cat "$WORKDIR/inbound.out"
	fail "relaisctl inbound add main"
}
# the carrier presents the certificate of case 1 (relaisd checks it
# against tls_ca, tls_verify_client=optional); baresip 1.0 does not check
# relaisd's self-signed one. libre 1.1.0 does not bind its outgoing TCP
# connections to the listening address, so toward 127.0.0.1 they would
# come from 127.0.0.1 (a phone, for relaisd): the carrier dials a TCP
# relay on 127.0.0.2 that connects to relaisd's TLS port from 127.0.0.2
# (TLS itself is end to end, between baresip and relaisd)
free_port RELAY_PORT || die "no free port"
"$PYTHON" - "$CARRIER_IP" "$RELAY_PORT" "$RELAIS_TLS_PORT" <<'PY' \
	>"$WORKDIR/relay.log" 2>&1 &
import socket, sys, threading
ip, port, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

lsn = socket.create_server((ip, port))
print("relay listening", flush=True)
while True:
    c, _ = lsn.accept()
    u = socket.create_connection(("127.0.0.1", dst), source_address=(ip, 0))
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
PY
track $!
check "the TCP relay listens on $CARRIER_IP:$RELAY_PORT" \
	wait_for 100 0.1 grep -q "relay listening" "$WORKDIR/relay.log"
UA_IP=$CARRIER_IP ua_start carrier4 "$CARRIER_AOR" \
	"regint=0;answermode=auto;mediaenc=srtp-mand" \
	"$WORKDIR/carrier8k.wav" "sip_certificate $PKI/carrier.pem"
ctl trunk set carrier --port "$((SIP_carrier4 + 1))" --transport tls \
	--srtp enforced --codecs PCMA,telephone-event \
	>"$WORKDIR/trunkset4.out" 2>&1 || {
	cat "$WORKDIR/trunkset4.out"
	fail "relaisctl trunk set carrier --transport tls --srtp enforced"
}
ua_start p4 "sip:100@127.0.0.1:$RELAIS_SIP_PORT" \
	"auth_pass=$PW100;regint=300;answermode=auto" "$WORKDIR/phone8k.wav"
check "the carrier is up (cons on $CONS_carrier4)" \
	wait_for 100 0.1 ua_listening carrier4 tls
check "phone 100 registered (UDP)" wait_for 100 0.1 ua_registered 100 p4

capture_start rtp4 "udp and portrange $RELAIS_RTP_MIN-$RELAIS_RTP_MAX" ||
	fail "tshark did not start capturing RTP"
MARK=$(log_lines)
cmd carrier4 "/dial sip:$DID@$CARRIER_IP:$RELAY_PORT;transport=tls"
if wait_for 150 0.1 connected; then
	pass "carrier -> $DID over TLS -> phone 100: connected"
	# side A is the caller (the carrier), side B phone 100
	PORT_A=$(active port_a)
	PORT_B=$(active port_b)
	echo "     relaisd RTP ports: carrier side $PORT_A, phone side" \
		"$PORT_B"
	sleep 3 # audio both ways, measured below
	cmd carrier4 "/hangup"
	check "the inbound call ended" wait_for 100 0.1 no_call
	capture_stop
	check "relaisd logged SRTP toward the caller (the carrier)" \
		log_since "$MARK" "SRTP toward the caller"
	check "the carrier's SRTP is on ($SUITE)" \
		grep -qF "SRTP is Enabled (cryptosuite=$SUITE)" \
		"$WORKDIR/ua-carrier4/out.txt"
	check "phone 100 was offered plain RTP (no SRTP there)" \
		bash -c "! grep -q 'SRTP is Enabled' '$WORKDIR/ua-p4/out.txt'"
	leg "carrier -> relaisd (SRTP)" rtp4 "$PORT_A" dst 8 170 srtp
	leg "relaisd -> carrier (SRTP)" rtp4 "$PORT_A" src 8 170 srtp
	# plain G.711 toward the phone: 160 bytes, no 10-byte tag
	leg "relaisd -> phone (plain)" rtp4 "$PORT_B" src "0|8" 160 rtp
	leg "phone -> relaisd (plain)" rtp4 "$PORT_B" dst "0|8" 160 rtp
else
	fail "carrier -> $DID -> phone 100: the call is not connected" \
		"(state: '$(call_state)')"
	cmd carrier4 "/hangup"
fi
capture_stop
ua_stop p4
ua_stop carrier4
check "phone 100 heard the SRTP carrier's $HZ_CARRIER Hz tone" \
	ua_heard p4 $HZ_CARRIER
check "the SRTP carrier heard phone 100's $HZ_PHONE Hz tone" \
	ua_heard carrier4 $HZ_PHONE

if [ "$TESTS_FAILED" -ne 0 ]; then
	for u in carrier1 p1 p1b carrier2 p2 carrier3 p3 carrier4 p4; do
		show_ua "$u"
	done
fi

finish
