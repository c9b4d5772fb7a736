#!/usr/bin/env bash
#
# test_tls_suites.sh: relaisd's TLS listener accepts only the suites of
# SPEC §2 and, with tls_verify_client = required, only clients whose
# certificate chains to tls_ca (mutual authentication, as Orange requires)
#
# The PKI of kamailio/pki.sh: relaisd presents pbx.customer.test (by
# "Customer CA") and trusts "Carrier Root"; the client is openssl s_client
# with the carrier SBC's certificate (by Carrier Root) unless said
# otherwise. Each attempt sends one OPTIONS through the TLS connection:
# accepted means a 200 came back through it. Checked:
#  - TLS 1.2 ECDHE-RSA-AES128-SHA and AES256-GCM-SHA384 (outside SPEC §2:
#    CBC with SHA-1, no ECDHE) are refused, and relaisd logs why;
#  - TLS 1.1 is refused, relaisd logs why;
#  - TLS 1.3 TLS_AES_256_GCM_SHA384 and TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384
#    with the carrier's certificate are accepted (the suite is printed);
#  - without a client certificate, and with a self-signed one, the
#    connection is refused and relaisd's log says why;
#  - tls_verify_client = optional: a client without certificate (a phone)
#    is accepted, a self-signed one refused; none: no certificate asked.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kamailio/pki.sh"

command -v openssl >/dev/null || die "openssl not installed"

PKI="$WORKDIR/pki"
make_ca "$PKI" || die "openssl cannot make the test PKI"

mkdir -p "$RELAIS_DIR"
cp "$PKI/relaisd.pem" "$RELAIS_DIR/tls.pem"
RELAIS_EXTRA_CONF="tls_ca = $PKI/carrier-root.pem
tls_verify_client = required"
relais_start

log_lines()
{
	wc -l <"$RELAIS_LOG"
}

# log_since LINE PATTERN: relaisd logged PATTERN (ERE) after line LINE
log_since()
{
	tail -n +"$(($1 + 1))" "$RELAIS_LOG" | grep -qE "$2"
}

# log_show LINE: relaisd's TLS lines after line LINE
log_show()
{
	tail -n +"$(($1 + 1))" "$RELAIS_LOG" | grep -E 'TLS' |
		sed 's/^/     relaisd: /'
}

# tls_try NAME S_CLIENT-ARGS...: connect with openssl s_client (relaisd's
# certificate verified against Customer CA), send one OPTIONS; output in
# WORKDIR/NAME.out; succeeds when a 200 came back over TLS
tls_try()
{
	local name=$1 port=$RELAIS_TLS_PORT
	shift

	{
		sleep 0.5
		printf '%s\r\n' \
			"OPTIONS sip:127.0.0.1:$port;transport=tls SIP/2.0" \
			"Via: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK$RANDOM$RANDOM;rport" \
			"Max-Forwards: 70" \
			"To: <sip:127.0.0.1:$port>" \
			"From: <sip:probe@127.0.0.1>;tag=$RANDOM" \
			"Call-ID: tls-$name-$RANDOM$RANDOM@127.0.0.1" \
			"CSeq: 1 OPTIONS" \
			"Content-Length: 0" ""
		sleep 1.5
	} | timeout -k 2 10 openssl s_client -connect "127.0.0.1:$port" \
		-CAfile "$PKI/customer-ca.pem" -verify_return_error \
		-nocommands "$@" >"$WORKDIR/$name.out" 2>&1
	# the status line may follow s_client's own output on one line
	grep -q 'SIP/2.0 200 ' "$WORKDIR/$name.out"
}

# suite NAME: "TLSv1.3 TLS_AES_256_GCM_SHA384" as s_client saw it
suite()
{
	sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1 \2/p' \
		"$WORKDIR/$1.out" | head -n 1
}

CARRIER=(-cert "$PKI/sbc.crt" -key "$PKI/sbc.key")

# ---- suites and versions outside SPEC §2 --------------------------------

for c in ECDHE-RSA-AES128-SHA AES256-GCM-SHA384; do
	l=$(log_lines)
	if tls_try "tls12-$c" -tls1_2 -cipher "$c" "${CARRIER[@]}"; then
		fail "TLS 1.2 $c (outside SPEC §2) accepted"
	else
		pass "TLS 1.2 $c (outside SPEC §2) refused"
	fi
	check "relaisd logged why $c was refused" \
		wait_for 20 0.1 log_since "$l" \
		"TLS: handshake with client 127\.0\.0\.1:[0-9]+ refused: .*no shared cipher"
	log_show "$l"
done

# the client lowers its own security level so that it offers TLS 1.1
l=$(log_lines)
if tls_try tls11 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' "${CARRIER[@]}"; then
	fail "TLS 1.1 accepted"
else
	pass "TLS 1.1 refused"
fi
check "relaisd logged why TLS 1.1 was refused" \
	wait_for 20 0.1 log_since "$l" \
	"TLS: handshake with client .* refused: protocol version"
log_show "$l"

# ---- SPEC §2 suites with the carrier's certificate ----------------------

l=$(log_lines)
if tls_try tls13 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 \
	"${CARRIER[@]}"; then
	pass "TLS 1.3 with the carrier's certificate accepted ($(suite tls13))"
else
	fail "TLS 1.3 with the carrier's certificate refused"
	tail -n 20 "$WORKDIR/tls13.out"
fi
expect_eq "negotiated suite" "TLSv1.3 TLS_AES_256_GCM_SHA384" "$(suite tls13)"
check "relaisd logged the client's certificate" \
	wait_for 20 0.1 log_since "$l" \
	"TLS: client 127\.0\.0\.1:[0-9]+: TLSv1\.3 TLS_AES_256_GCM_SHA384, certificate CN=sbc\.carrier\.test,O=Test"
log_show "$l"

if tls_try tls12 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384 \
	"${CARRIER[@]}"; then
	pass "TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 accepted ($(suite tls12))"
else
	fail "TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 refused"
	tail -n 20 "$WORKDIR/tls12.out"
fi

# ---- mutual authentication ----------------------------------------------

l=$(log_lines)
if tls_try nocert -tls1_3; then
	fail "a client without certificate accepted (tls_verify_client = required)"
else
	pass "a client without certificate refused"
fi
check "relaisd logged that the client sent no certificate" \
	wait_for 20 0.1 log_since "$l" \
	"TLS: handshake with client .* refused: .*peer did not return a certificate"
log_show "$l"

l=$(log_lines)
if tls_try nocert12 -tls1_2; then
	fail "a TLS 1.2 client without certificate accepted"
else
	pass "a TLS 1.2 client without certificate refused"
fi

l=$(log_lines)
if tls_try evil -tls1_3 -cert "$PKI/evil.crt" -key "$PKI/evil.key"; then
	fail "a client with a self-signed certificate accepted"
else
	pass "a client with a self-signed certificate refused"
fi
check "relaisd logged why the evil certificate was refused" \
	wait_for 20 0.1 log_since "$l" \
	"TLS: certificate of client 127\.0\.0\.1:[0-9]+ refused: self-signed certificate \(depth 0, subject CN=evil"
log_show "$l"

l=$(log_lines)
if tls_try evil12 -tls1_2 -cert "$PKI/evil.crt" -key "$PKI/evil.key"; then
	fail "a TLS 1.2 client with a self-signed certificate accepted"
else
	pass "a TLS 1.2 client with a self-signed certificate refused"
fi
check "relaisd logged it" wait_for 20 0.1 log_since "$l" \
	"TLS: certificate of client .* refused: self-signed certificate"

check "relaisd is still running" relais_alive

# ---- tls_verify_client = optional and none ------------------------------

# restart_verify MODE: relaisd again, asking clients for certificates as
# MODE says
restart_verify()
{
	relais_stop
	RELAIS_EXTRA_CONF="tls_ca = $PKI/carrier-root.pem
tls_verify_client = $1"
	relais_start
}

restart_verify optional
if tls_try opt-nocert -tls1_3; then
	pass "optional: a client without certificate accepted (a phone)"
else
	fail "optional: a client without certificate refused"
fi
# s_client prints the signature algorithms of a CertificateRequest
check "optional: relaisd asked for a certificate" \
	grep -q "^Requested Signature Algorithms" "$WORKDIR/opt-nocert.out"
if tls_try opt-evil -tls1_3 -cert "$PKI/evil.crt" -key "$PKI/evil.key"; then
	fail "optional: a client with a self-signed certificate accepted"
else
	pass "optional: a client with a self-signed certificate refused"
fi

restart_verify none
if tls_try none-nocert -tls1_3; then
	pass "none: a client without certificate accepted"
else
	fail "none: a client without certificate refused"
fi
if grep -q "^Requested Signature Algorithms" "$WORKDIR/none-nocert.out"; then
	fail "none: relaisd asked for a client certificate"
else
	pass "none: relaisd asked for no client certificate"
fi

check "relaisd is still running" relais_alive
finish
