#!/usr/bin/env bash
#
# fuzz-run.sh BUILD_DIR [SECONDS]: run every libFuzzer target found in
# BUILD_DIR/fuzz for a bounded time each (default 30 s)
#
# Seed corpus: the files of tests/data (malformed SIP, SDP bodies), a few
# well-formed SIP requests and digest headers written here, and whatever an
# earlier run of the same build directory kept in BUILD_DIR/corpus/<name>.
# A crash leaves its input in BUILD_DIR/artifacts/ and fails the run.

set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [SECONDS]}
secs=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)

fuzzdir="$build/fuzz"
seeds="$build/fuzz-seeds"
artifacts="$build/artifacts"

shopt -s nullglob
targets=("$fuzzdir"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-run: no fuzz targets in $fuzzdir" >&2
	exit 1
fi

crlf()
{
	sed 's/$/\r/'
}

make_seeds()
{
	rm -rf "$seeds"
	mkdir -p "$seeds/sip" "$seeds/digest" "$artifacts"

	for f in "$src"/tests/data/malformed/* "$src"/tests/data/sdp/*; do
		[ -f "$f" ] && cp "$f" "$seeds/sip/"
	done

	crlf >"$seeds/sip/register_auth.txt" <<'EOF'
REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: <sip:100@127.0.0.1>
From: <sip:100@127.0.0.1>;tag=1928301774
Call-ID: a84b4c76e66710@127.0.0.1
CSeq: 2 REGISTER
Contact: <sip:100@127.0.0.1:5070;transport=udp>;expires=3600
Authorization: Digest username="100", realm="relais", nonce="0123456789abcdef0123456789abcdef", uri="sip:127.0.0.1", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001
Expires: 3600
Content-Length: 0

EOF

	crlf >"$seeds/body.sdp" <<'EOF'
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 0 101
a=rtpmap:101 telephone-event/8000
a=sendrecv
EOF
	{
		crlf <<'EOF'
INVITE sip:101@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK74bf9;rport
Max-Forwards: 70
To: <sip:101@127.0.0.1>
From: "Alice" <sip:100@127.0.0.1>;tag=9fxced76sl
Call-ID: 3848276298220188511@127.0.0.1
CSeq: 2 INVITE
Contact: <sip:100@127.0.0.1:5070>
Proxy-Authorization: Digest username="100", realm="relais", nonce="0123456789abcdef0123456789abcdef", uri="sip:101@127.0.0.1", response="0e7b3a1a5f1e0a4b2d0ad6c58e0cb3f4d1a3f24e1f5c6a7b8c9d0e1f2a3b4c5d", algorithm=SHA-256, cnonce="f2a3", qop=auth, nc=00000001
Content-Type: application/sdp
EOF
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$seeds/body.sdp")"
		cat "$seeds/body.sdp"
	} >"$seeds/sip/invite_sdp.txt"
	# fuzz_sbc sends inputs naming this token to the SBC's private side
	{
		crlf <<'EOF'
INVITE sip:rw0000000000000000@127.0.30.1:25064 SIP/2.0
Via: SIP/2.0/UDP 127.0.40.1:25060;branch=z9hG4bKpbx1;rport
Max-Forwards: 70
To: <sip:rw0000000000000000@127.0.30.1>
From: "Bob" <sip:200@127.0.40.1>;tag=pbx77
Call-ID: pbx-call-1@127.0.40.1
CSeq: 1 INVITE
Contact: <sip:200@127.0.40.1:25060>
Content-Type: application/sdp
EOF
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$seeds/body.sdp")"
		cat "$seeds/body.sdp"
	} >"$seeds/sip/sbc_private_invite.txt"
	rm -f "$seeds/body.sdp"

	crlf >"$seeds/sip/options.txt" <<'EOF'
OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKopt1
Max-Forwards: 70
To: <sip:127.0.0.1>
From: <sip:probe@127.0.0.1>;tag=77
Call-ID: opt-1@127.0.0.1
CSeq: 1 OPTIONS
Content-Length: 0

EOF

	printf '%s' 'Digest username="100", realm="relais", nonce="abc", uri="sip:127.0.0.1", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001' \
		>"$seeds/digest/md5.txt"
	printf '%s' 'Digest username="101",realm="relais",nonce="n",uri="sip:101@127.0.0.1",response="0e7b3a1a",algorithm=SHA-256,opaque="x"' \
		>"$seeds/digest/sha256.txt"
	printf '%s' 'Digest username=100, realm=, nonce' >"$seeds/digest/bare.txt"
	cp "$seeds/sip/"*.txt "$seeds/digest/"
}

make_seeds

failed=()
for t in "${targets[@]}"; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus="$build/corpus/$name"
	mkdir -p "$corpus"

	seed="$seeds/sip"
	case "$name" in
	*digest* | *auth*) seed="$seeds/digest" ;;
	esac

	echo "--- $name: ${secs}s, seeds from $seed"
	# The first directory receives new inputs; the seeds are read only.
	if "$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name-" \
		"$corpus" "$seed" >"$build/$name.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' \
			"$build/$name.log" | sed 's/^/    /' || true
		echo "--- $name: OK"
	else
		tail -n 60 "$build/$name.log"
		echo "--- $name: FAILED (log $build/$name.log, inputs in $artifacts)"
		failed+=("$name")
	fi
done

if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz-run: failing targets: ${failed[*]}"
	exit 1
fi
echo "fuzz-run: ${#targets[@]} target(s) ran ${secs}s each without a crash"
