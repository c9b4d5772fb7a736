#!/usr/bin/env bash
#
# test_kamailio_tls.sh: TLS with mutual authentication between relaisd and
# a carrier's access SBC (kamailio 5.6 with its tls module, on loopback)
#
# The PKI of kamailio/pki.sh: the SBC presents sbc.carrier.test (by
# "Carrier Root", relaisd's tls_ca) and trusts "Customer CA", which signed
# relaisd's pbx.customer.test. relaisd requires client certificates
# (tls_verify_client = required); kamailio requires and verifies them both
# ways. The carrier's core is sipp on UDP behind kamailio; dnsmasq answers
# sbc.carrier.test for relaisd (dns_servers). Checked:
#  1. inbound: the core's OPTIONS crosses kamailio and reaches relaisd over
#     TLS, the 200 comes back (kamailio's certificate accepted, relaisd's
#     accepted by kamailio);
#  2. outbound: a TLS trunk to sbc.carrier.test probes kamailio with
#     OPTIONS and goes up (relaisd verified the chain and the host name);
#  3. relaisd's own certificate replaced (relaisctl cert install) by one the
#     carrier does not trust: kamailio refuses it, the trunk goes down and
#     relaisd's log says the SBC refused the handshake; the trusted one
#     installed again brings the trunk back up;
#  3b. calls both ways through the SBC: extension 100 dials 0142000000, the
#     core receives INVITE sip:+33142000000 from kamailio, which got it over
#     TLS from relaisd's certificate; the core calls DID +448452304024 and
#     extension 101 answers;
#  4. kamailio presenting a certificate of the carrier's CA for another
#     name: the trunk goes down, relaisd logs a host name mismatch;
#  5. kamailio presenting a self-signed certificate: refused both ways,
#     relaisd's log says why.
# The functions make_ca, start_kamailio and stop_kamailio
# (kamailio/kamailio.sh) let a call through the SBC be added as one more
# section.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kamailio/kamailio.sh"

command -v kamailio >/dev/null ||
	die "kamailio not installed (kamailio, kamailio-tls-modules)"
[ -f "$KAM_MPATH/tls.so" ] || die "kamailio-tls-modules not installed"
command -v dnsmasq >/dev/null || die "dnsmasq not installed (dnsmasq-base)"

PKI="$WORKDIR/pki"
make_ca "$PKI" || die "openssl cannot make the test PKI"

start_carrier_dns || die "dnsmasq did not start"

mkdir -p "$RELAIS_DIR"
cp "$PKI/relaisd.pem" "$RELAIS_DIR/tls.pem"
RELAIS_EXTRA_CONF="tls_ca = $PKI/carrier-root.pem
tls_verify_client = required
dns_servers = 127.0.0.1:$DNS_PORT"
relais_start

kamailio_ports || die "no free ports for kamailio"
start_kamailio good "$PKI/sbc.crt" "$PKI/sbc.key" "$PKI/carrier-trust.pem" ||
	die "kamailio did not start"

# ---- helpers ------------------------------------------------------------

log_lines()
{
	wc -l <"$RELAIS_LOG"
}

# log_since LINE PATTERN: relaisd logged PATTERN (ERE) after line LINE
log_since()
{
	tail -n +"$(($1 + 1))" "$RELAIS_LOG" | grep -qE "$2"
}

# log_show LINE: relaisd's TLS lines after line LINE (the first few)
log_show()
{
	tail -n +"$(($1 + 1))" "$RELAIS_LOG" | grep -E 'TLS' | head -n 4 |
		sed 's/^/     relaisd: /'
}

# core_options NAME: the core sends one OPTIONS through kamailio to
# relaisd; succeeds when the 200 came back
core_options()
{
	local port
	free_port port || return 1
	sipp_run "$1" "$KAM_DIR/options.xml" "127.0.0.1:$KAM_UDP_PORT" \
		-i 127.0.0.1 -p "$port" -s relais -m 1 -recv_timeout 8000 \
		-timeout 15
}

trunk_state()
{
	ctl --json trunk list |
		json_query "[t['state'] for t in j if t['name'] == '$1']"
}

trunk_is()
{
	[ "$(trunk_state "$1")" = "$2" ]
}

# wait_trunk NAME STATE: at most 100 s. Over TLS 1.3 the client finishes
# its handshake before the server has checked the client's certificate:
# a carrier refusing ours closes a connection relaisd has already sent
# an OPTIONS on, and that probe only fails at its timeout (Timer F, 32 s)
wait_trunk()
{
	wait_for 500 0.2 trunk_is "$1" "$2"
}

# wait_log LINE PATTERN: relaisd logs PATTERN within 100 s
wait_log()
{
	wait_for 500 0.2 log_since "$1" "$2"
}

trunk_error()
{
	ctl --json trunk list |
		json_query "[t['last_error'] for t in j if t['name'] == '$1']"
}

# restart_kamailio NAME CERT KEY: kamailio again with another certificate
# (its TLS connections with relaisd end with it)
restart_kamailio()
{
	stop_kamailio
	start_kamailio "$1" "$2" "$3" "$PKI/carrier-trust.pem" ||
		die "kamailio ($1) did not start"
}

CARRIER_PORT_RE="127\.0\.0\.1:$KAM_TLS_PORT"

# ==== 1. inbound: the carrier's SBC connects to relaisd ====================

echo "# 1. the carrier's core -> kamailio -> TLS -> relaisd"
l=$(log_lines)
if core_options in1; then
	pass "the core's OPTIONS reached relaisd over TLS and the 200 came back"
else
	fail "the core's OPTIONS through kamailio was not answered"
	sipp_show in1
fi
check "relaisd accepted kamailio's certificate (mutual authentication)" \
	wait_for 20 0.1 log_since "$l" \
	"TLS: client 127\.0\.0\.1:[0-9]+: TLSv1\.[23] [A-Z0-9_-]+, certificate CN=sbc\.carrier\.test"
log_show "$l"
check "kamailio relayed the OPTIONS to relaisd" \
	kamailio_logged "SBC: reply 200 .* to OPTIONS from tls:127\.0\.0\.1:$RELAIS_TLS_PORT"

# ==== 2. outbound: a TLS trunk to the SBC ==================================

echo "# 2. trunk sbc.carrier.test over TLS, probed with OPTIONS"
l=$(log_lines)
ctl trunk add carrier --kind ip --host sbc.carrier.test \
	--port "$KAM_TLS_PORT" --transport tls --no-srv \
	--options-interval 5 >/dev/null ||
	die "relaisctl trunk add carrier"

if wait_trunk carrier up; then
	pass "the TLS trunk is up"
else
	fail "the TLS trunk is not up: $(trunk_state carrier) ($(trunk_error carrier))"
fi
check "dnsmasq answered relaisd's query for sbc.carrier.test" \
	grep -q "query\[A\] sbc.carrier.test" "$WORKDIR/dnsmasq.log"
check "relaisd verified the SBC's certificate" log_since "$l" \
	"TLS: server $CARRIER_PORT_RE: TLSv1\.[23] [A-Z0-9_-]+, certificate CN=sbc\.carrier\.test"
check "kamailio received the probes over TLS from relaisd's certificate" \
	kamailio_logged "SBC: OPTIONS .* from the PBX tls:127\.0\.0\.1:[0-9]+ .*peer CN=pbx\.customer\.test, verified 1"
log_show "$l"

# ==== 3. relaisd's certificate: one the carrier does not trust ==============

echo "# 3. relaisd presents a certificate the carrier does not trust"
l=$(log_lines)
if ctl cert install "$PKI/untrusted.pem" >"$WORKDIR/install1.out" 2>&1; then
	pass "relaisctl cert install (self-signed, key in the PEM)"
else
	fail "relaisctl cert install: $(cat "$WORKDIR/install1.out")"
fi
check "relaisd put it in service" log_since "$l" \
	"new certificate in service: CN=pbx\.customer\.test,O=Untrusted"
# the connections made with the trusted certificate keep it: restarting
# kamailio ends them
restart_kamailio good2 "$PKI/sbc.crt" "$PKI/sbc.key"

if wait_trunk carrier down; then
	pass "the trunk went down ($(trunk_error carrier))"
else
	fail "the trunk did not go down: $(trunk_state carrier)"
fi
check "relaisd logged that the SBC refused its certificate" \
	wait_log "$l" "TLS: server $CARRIER_PORT_RE refused the handshake: "
log_show "$l"

if core_options in3; then
	fail "kamailio reached relaisd with its certificate untrusted"
else
	pass "the core's OPTIONS does not get through (kamailio refuses relaisd)"
fi

l=$(log_lines)
ctl cert install "$PKI/relaisd.pem" >"$WORKDIR/install2.out" 2>&1 ||
	fail "relaisctl cert install (trusted): $(cat "$WORKDIR/install2.out")"
if wait_trunk carrier up; then
	pass "the trusted certificate installed again: the trunk is up"
else
	fail "the trunk did not come back up: $(trunk_state carrier)"
fi

# ==== 3b. calls through the SBC, both ways ================================

echo "# 3b. calls: phone -> relaisd -> TLS -> kamailio -> core, and back"
PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"
ctl outbound add --name france --prefix 0 --route carrier:1:+33 \
	>/dev/null || die "relaisctl outbound add"
ctl inbound add --name main --did 2304024 --open extension:101 \
	>/dev/null || die "relaisctl inbound add"
free_port PCALLER
free_port P101
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END
users_csv "$WORKDIR/caller.csv" 100 "$PW100"

# the core behind kamailio answers INVITEs (carrier.xml logs them)
sipp_bg core carrier -i 127.0.0.1 -p "$CORE_PORT" -m 100 -mi 127.0.0.1 \
	-mp "$MPB" -rtp_echo
CORE_PID=$SIPP_PID
if sipp_run out uac_call 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
	-p "$PCALLER" -m 1 -s 0142000000 -inf "$WORKDIR/caller.csv" \
	-mi 127.0.0.1 -mp "$MPA" -d 1000 -recv_timeout 15000 \
	-auth_uri "0142000000@127.0.0.1:$RELAIS_SIP_PORT"; then
	pass "outbound call answered by the core through kamailio over TLS"
else
	fail "outbound call through kamailio failed"
	sipp_show out
	sipp_show core
fi
check "the core got INVITE sip:+33142000000 (prefix 0, strip 1, +33)" \
	grep -q "^carrier-invite ruri=|INVITE sip:+33142000000@" \
	"$WORKDIR/core.log"
check "kamailio got the INVITE over TLS from relaisd's certificate" \
	kamailio_logged "SBC: INVITE sip:\+33142000000@.* from the PBX tls:.*peer CN=pbx\.customer\.test, verified 1"
kill_pid "$CORE_PID"

if sipp_register reg101 101 "$PW101" "$P101" 600; then
	pass "101 registered"
else
	fail "101 could not register"
	sipp_show reg101
fi
sipp_bg in-b uas_answer -i 127.0.0.1 -p "$P101" -m 1 -mi 127.0.0.1 \
	-mp "$MPB" -rtp_echo
CALLEE_PID=$SIPP_PID
wait_for 50 0.1 bash -c "[ -n \"\$(ss -Hlnu '( sport = :$P101 )')\" ]"
free_port PCORE2
if sipp_run in carrier_call "127.0.0.1:$KAM_UDP_PORT" -i 127.0.0.1 \
	-p "$PCORE2" -m 1 -s +448452304024 -mi 127.0.0.1 -mp "$MPA" \
	-d 1000 -recv_timeout 15000; then
	pass "inbound call from the core reached extension 101 over TLS"
else
	fail "inbound call through kamailio failed"
	sipp_show in
fi
if sipp_wait "$CALLEE_PID"; then
	pass "extension 101 answered and saw the BYE"
else
	fail "extension 101's scenario failed"
	sipp_show in-b
fi

# ==== 4. the SBC's certificate names another host ==========================

echo "# 4. kamailio presents other.carrier.test (right CA, wrong name)"
l=$(log_lines)
restart_kamailio other "$PKI/other.crt" "$PKI/other.key"
check "relaisd refused the SBC's certificate for the host name mismatch" \
	wait_log "$l" \
	"TLS: certificate of server $CARRIER_PORT_RE refused: hostname mismatch \(depth 0, subject CN=other\.carrier\.test"
if wait_trunk carrier down; then
	pass "the trunk went down"
else
	fail "the trunk stayed $(trunk_state carrier) with the wrong name"
fi
log_show "$l"

# ==== 5. the SBC presents a self-signed certificate ========================

echo "# 5. kamailio presents a self-signed certificate"
l=$(log_lines)
restart_kamailio evil "$PKI/evil.crt" "$PKI/evil.key"
if core_options in5; then
	fail "relaisd accepted kamailio's self-signed certificate"
else
	pass "relaisd refused the connection from kamailio's self-signed certificate"
fi
check "relaisd logged why (inbound)" wait_for 20 0.1 log_since "$l" \
	"TLS: certificate of client 127\.0\.0\.1:[0-9]+ refused: self-signed certificate \(depth 0, subject CN=evil"
if wait_log "$l" \
	"TLS: certificate of server $CARRIER_PORT_RE refused: self-signed certificate \(depth 0, subject CN=evil"; then
	pass "relaisd refused the SBC's self-signed certificate and logged why"
else
	fail "relaisd did not log the refusal of the SBC's certificate"
fi
check "the trunk is down" wait_trunk carrier down
log_show "$l"

check "relaisd is still running" relais_alive
stop_kamailio
finish
