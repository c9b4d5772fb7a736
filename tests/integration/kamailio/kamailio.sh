# kamailio.sh: kamailio 5.6 as a carrier's access SBC on loopback, for the
# TLS tests (sourced after lib.sh, never run)
#
#   make_ca DIR             the test PKI (pki.sh)
#   kamailio_ports          choose KAM_UDP_PORT, KAM_TLS_PORT, CORE_PORT
#   start_kamailio NAME CERT KEY CA [PBX_TLS_PORT]
#                           kamailio presenting CERT/KEY, trusting CA,
#                           relaying the core's requests to relaisd's TLS
#                           port (RELAIS_TLS_PORT by default); log in
#                           WORKDIR/kamailio-NAME.log; waits until it
#                           listens; sets KAM_PID
#   stop_kamailio           stop it (TERM, bounded wait, KILL)
#   kamailio_logged PATTERN the running kamailio logged PATTERN (ERE)
#   start_carrier_dns       dnsmasq on 127.0.0.1:DNS_PORT answering
#                           sbc.carrier.test and other.carrier.test with
#                           127.0.0.1 (relaisd's dns_servers); log in
#                           WORKDIR/dnsmasq.log
#
# kamailio runs in the foreground (-DD, logging to stderr with -E) with a
# private runtime directory and small shared memory; its PID is tracked so
# it is stopped whatever the end of the test.

KAM_DIR="$(dirname "${BASH_SOURCE[0]}")"
. "$KAM_DIR/pki.sh"

KAMAILIO=${KAMAILIO:-kamailio}
KAM_MPATH=${KAM_MPATH:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
KAM_PID=
KAM_LOG=
KAM_UDP_PORT=
KAM_TLS_PORT=
CORE_PORT=

kamailio_ports()
{
	free_port KAM_UDP_PORT && free_port KAM_TLS_PORT &&
		free_port CORE_PORT
}

kamailio_listening()
{
	[ -n "$(ss -Hlnt "( sport = :$KAM_TLS_PORT )")" ] &&
		[ -n "$(ss -Hlnu "( sport = :$KAM_UDP_PORT )")" ]
}

start_kamailio()
{
	local name=$1 cert=$2 key=$3 ca=$4 pbx=${5:-$RELAIS_TLS_PORT}
	local d="$WORKDIR/kamailio-$name"

	[ -n "$KAM_TLS_PORT" ] || kamailio_ports || return 1
	mkdir -p "$d/run" || return 1

	sed -e "s|@KEY@|$key|" -e "s|@CERT@|$cert|" -e "s|@CA@|$ca|" \
		"$KAM_DIR/tls.cfg.in" >"$d/tls.cfg" || return 1
	sed -e "s|@UDP_PORT@|$KAM_UDP_PORT|g" \
		-e "s|@TLS_PORT@|$KAM_TLS_PORT|g" \
		-e "s|@CORE_PORT@|$CORE_PORT|g" \
		-e "s|@PBX_TLS_PORT@|$pbx|g" \
		-e "s|@MPATH@|$KAM_MPATH|g" \
		-e "s|@TLS_CFG@|$d/tls.cfg|g" \
		"$KAM_DIR/kamailio.cfg.in" >"$d/kamailio.cfg" || return 1

	KAM_LOG="$WORKDIR/kamailio-$name.log"
	"$KAMAILIO" -f "$d/kamailio.cfg" -DD -E -Y "$d/run" \
		-P "$d/run/kamailio.pid" -m 64 -M 8 \
		>"$KAM_LOG" 2>&1 </dev/null &
	KAM_PID=$!
	track "$KAM_PID"

	if ! wait_for 100 0.1 kamailio_listening; then
		echo "---- $KAM_LOG"
		tail -n 30 "$KAM_LOG" | sed 's/^/    /'
		return 1
	fi
	echo "     kamailio ($name) pid $KAM_PID, UDP $KAM_UDP_PORT," \
		"TLS $KAM_TLS_PORT"
}

stop_kamailio()
{
	[ -n "$KAM_PID" ] || return 0
	kill_pid "$KAM_PID"
	KAM_PID=
}

kamailio_logged()
{
	grep -qE "$1" "$KAM_LOG"
}

start_carrier_dns()
{
	free_port DNS_PORT || return 1
	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --bind-interfaces --listen-address=127.0.0.1 \
		--port="$DNS_PORT" --pid-file= --log-queries \
		--log-facility=- \
		--host-record=sbc.carrier.test,127.0.0.1 \
		--host-record=other.carrier.test,127.0.0.1 \
		>"$WORKDIR/dnsmasq.log" 2>&1 </dev/null &
	DNS_PID=$!
	track "$DNS_PID"
	wait_for 50 0.1 dns_listening
}

dns_listening()
{
	[ -n "$(ss -Hlnu "( sport = :$DNS_PORT )")" ]
}
