#!/usr/bin/env bash
#
# test_robustness.sh: relaisd survives malformed SIP
#
# Every file of tests/data/malformed/ (written by scripts/gen-malformed.py)
# is sent over UDP (those too large for a datagram over TCP), a selection
# over TCP as well, then all of them again in a burst. For each, relaisd
# may answer 4xx or stay silent, never anything else (a few are abusive
# but legal SIP: those may get any SIP answer); afterwards it still
# answers OPTIONS over UDP and TCP and its process is alive.

. "$(dirname "$0")/lib.sh"

DATA="$SRC_DIR/tests/data/malformed"
UDP_MAX=65507
# also sent over TCP, each on its own connection
TCP_SET="no_callid no_via clen_larger_than_body clen_negative clen_huge
	binary_junk long_header_64k via_200 nul_bytes non_sip_text
	bad_request_line empty folded_headers_only"
# legal SIP, only abusive in size: any status line (or none) will do
LEGAL_SET="via_200 long_header_60k long_header_64k"

shopt -s nullglob
files=("$DATA"/*.sip)
[ ${#files[@]} -ge 15 ] || die "expected at least 15 files in $DATA"

relais_start
expect_eq "OPTIONS over UDP answered before the test" 200 "$(sip_options udp)"

# in_list WORD LIST: WORD is one of the words of LIST
in_list()
{
	local w
	for w in $2; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

# acceptable NAME CODE: no answer, or a 4xx status line
acceptable()
{
	case "$2" in
	none | 4[0-9][0-9]) return 0 ;;
	[1-6][0-9][0-9])
		in_list "$1" "$LEGAL_SET" && return 0
		;;
	esac
	return 1
}

send_one()
{
	local proto=$1 f=$2 name code
	name=$(basename "$f" .sip)

	code=$(sip_send "$proto" "$f" 0.7)
	if acceptable "$name" "$code"; then
		pass "$proto $name: ${code/none/no answer}"
	else
		fail "$proto $name: answered '$code' (expected 4xx or nothing)"
	fi
	if ! relais_alive; then
		relais_log_tail
		die "relaisd died after $proto $name"
	fi
}

for f in "${files[@]}"; do
	if [ "$(stat -c %s "$f")" -le "$UDP_MAX" ]; then
		send_one udp "$f"
	fi
done

for f in "${files[@]}"; do
	name=$(basename "$f" .sip)
	if [ "$(stat -c %s "$f")" -gt "$UDP_MAX" ] ||
		in_list "$name" "$TCP_SET"; then
		send_one tcp "$f"
	fi
done

# a burst: every datagram 20 times without waiting for answers
"$PYTHON" - "$RELAIS_SIP_PORT" "${files[@]}" <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    for path in sys.argv[2:]:
        data = open(path, "rb").read()
        if len(data) <= 65507:
            s.sendto(data, ("127.0.0.1", port))
PYEOF
check "relaisd alive after a burst of $((20 * ${#files[@]})) datagrams" \
	relais_alive

answers_options()
{
	[ "$(sip_options "$1")" = 200 ]
}
check "OPTIONS over UDP still answered 200" wait_for 20 0.2 \
	answers_options udp
check "OPTIONS over TCP still answered 200" wait_for 20 0.2 \
	answers_options tcp
check "relaisctl still answers" bash -c \
	"'$RELAISCTL' --socket '$RELAIS_SOCK' extension list >/dev/null"
check "relaisd still running" relais_alive
finish
