# pki.sh: the test PKI of the TLS tests (sourced, never run)
#
# make_ca DIR builds, with the openssl command, what a carrier and its
# customer hold (RSA 2048, SHA-256, valid two days):
#   carrier-root.pem/.key  "Carrier Root": the carrier's CA, relaisd's trust
#                          anchor (tls_ca)
#   sbc.crt/.key           "sbc.carrier.test" (SAN DNS:sbc.carrier.test,
#                          IP:127.0.0.1), serverAuth+clientAuth, by Carrier
#                          Root: the carrier's access SBC (kamailio)
#   customer-ca.pem/.key   "Customer CA": the public CA that signed the
#                          customer's certificate; the carrier trusts it
#   pbx.crt/.key           "pbx.customer.test" (SAN DNS:pbx.customer.test,
#                          IP:127.0.0.1) by Customer CA: relaisd's
#   relaisd.pem            pbx key, pbx.crt, customer-ca.pem: relaisd's
#                          tls_cert (key, then the chain, leaf first)
#   other.crt/.key         "other.carrier.test" (DNS only) by Carrier Root:
#                          trusted, but not the name of the SBC
#   evil.crt/.key/.pem     self-signed, "CN=evil" but the SBC's names
#   untrusted.pem          key and self-signed "pbx.customer.test": a PBX
#                          certificate the carrier does not trust
#   carrier-trust.pem      what the carrier trusts: Customer CA
# The openssl output goes to DIR/openssl.log.

# pki_ca DIR NAME CN: a self-signed CA
pki_ca()
{
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
		-keyout "$1/$2.key" -out "$1/$2.pem" -subj "/O=Test/CN=$3" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}

# pki_leaf DIR NAME CA CN SAN: a server and client certificate by CA
pki_leaf()
{
	local d=$1 name=$2 ca=$3 cn=$4 san=$5

	openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$d/$name.key" \
		-out "$d/$name.csr" -subj "/O=Test/CN=$cn" || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth,clientAuth" \
		"subjectAltName=$san" >"$d/$name.ext"
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" \
		-CAkey "$d/$ca.key" -CAcreateserial -sha256 -days 2 \
		-extfile "$d/$name.ext" -out "$d/$name.crt"
}

make_ca()
{
	local d=$1

	mkdir -p "$d" || return 1
	{
		pki_ca "$d" carrier-root "Carrier Root" &&
			pki_ca "$d" customer-ca "Customer CA" &&
			pki_leaf "$d" sbc carrier-root sbc.carrier.test \
				"DNS:sbc.carrier.test,IP:127.0.0.1" &&
			pki_leaf "$d" pbx customer-ca pbx.customer.test \
				"DNS:pbx.customer.test,IP:127.0.0.1" &&
			pki_leaf "$d" other carrier-root other.carrier.test \
				"DNS:other.carrier.test" &&
			openssl req -x509 -newkey rsa:2048 -nodes -sha256 \
				-days 2 -keyout "$d/untrusted.key" \
				-out "$d/untrusted.crt" \
				-subj "/O=Untrusted/CN=pbx.customer.test" &&
			openssl req -x509 -newkey rsa:2048 -nodes -sha256 \
				-days 2 -keyout "$d/evil.key" \
				-out "$d/evil.crt" -subj "/CN=evil" \
				-addext "subjectAltName=DNS:sbc.carrier.test,IP:127.0.0.1" \
				-addext "extendedKeyUsage=serverAuth,clientAuth"
	} >"$d/openssl.log" 2>&1 || {
		cat "$d/openssl.log"
		return 1
	}

	cat "$d/pbx.key" "$d/pbx.crt" "$d/customer-ca.pem" >"$d/relaisd.pem"
	cat "$d/evil.key" "$d/evil.crt" >"$d/evil.pem"
	cat "$d/untrusted.key" "$d/untrusted.crt" >"$d/untrusted.pem"
	cp "$d/customer-ca.pem" "$d/carrier-trust.pem"
	chmod 600 "$d"/*.key "$d"/*.pem
}
