#!/usr/bin/env bash
#
# demo.sh start|stop [BUILD_DIR]: the `make demo` daemon in var/demo/
#
# start: writes var/demo/relaisd.conf (127.0.0.1, SIP 5060 UDP/TCP, TLS
# 5061, RTP 20000-27999), stops a demo relaisd still running, starts
# relaisd (it daemonises once it listens), creates extensions 100 and 101
# with generated passwords the first time, and prints how to point a
# softphone at it. The database, the passwords and the TLS certificate are
# kept from one run to the next.
# stop: stops the demo relaisd named by var/demo/relaisd.pid.

set -euo pipefail

cmd=${1:-start}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build}
case "$build" in
/*) ;;
*) build="$root/$build" ;;
esac

dir="$root/var/demo"
conf="$dir/relaisd.conf"
pidf="$dir/relaisd.pid"
sock="$dir/relaisd.sock"
log="$dir/relaisd.log"
relaisd="$build/relaisd"
relaisctl="$build/relaisctl"
realm=relais
exts=(100 101)

ctl()
{
	"$relaisctl" --socket "$sock" "$@"
}

# pid of the demo daemon if it runs, else nothing
demo_pid()
{
	local pid

	[ -f "$pidf" ] || return 0
	pid=$(tr -dc '0-9' <"$pidf")
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	# a stale file may name a PID reused by another program
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = relaisd ] || return 0
	echo "$pid"
}

stop()
{
	local pid i

	pid=$(demo_pid)
	if [ -z "$pid" ]; then
		rm -f "$pidf"
		echo "demo: no demo relaisd running"
		return 0
	fi

	echo "demo: stopping relaisd (pid $pid)"
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "demo: relaisd did not stop within 10 s, killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidf"
}

write_config()
{
	mkdir -p "$dir"
	cat >"$conf" <<EOF
# relaisd configuration written by \`make demo\` (scripts/demo.sh).
# Every key and its range: build/relaisd --help-config
sip_udp_listen = 127.0.0.1:5060
sip_tcp_listen = 127.0.0.1:5060
sip_tls_listen = 127.0.0.1:5061
sip_realm = $realm
tls_cert = $dir/tls/relaisd.pem
media_address = 127.0.0.1
rtp_port_min = 20000
rtp_port_max = 27999
db_path = $dir/relais.db
control_socket = $sock
pid_file = $pidf
log_level = info
EOF
}

start()
{
	local created=() existing=() out

	for p in "$relaisd" "$relaisctl"; do
		if [ ! -x "$p" ]; then
			echo "demo: $p not found: build first (make build)" >&2
			exit 1
		fi
	done

	write_config
	"$relaisd" --config "$conf" --check-config >/dev/null
	if [ -n "$(demo_pid)" ]; then
		stop
	fi

	echo "==== $(date '+%F %T') make demo" >>"$log"
	if ! "$relaisd" --config "$conf" 2>>"$log"; then
		echo "demo: relaisd did not start; end of $log:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	echo "demo: relaisd running (pid $(demo_pid)), log in" \
		"${log#"$root"/}"

	for e in "${exts[@]}"; do
		if ctl extension show "$e" >/dev/null 2>&1; then
			existing+=("$e")
			continue
		fi
		out=$(ctl extension add "$e" --name "Demo $e" \
			--generate-password)
		created+=("$e")
		echo
		echo "Extension $e created:"
		echo "$out" | sed 's/^/    /'
	done

	if [ ${#existing[@]} -ne 0 ]; then
		echo
		echo "Extension(s) ${existing[*]} already exist; their passwords" \
			"were printed by the first \`make demo\`."
		echo "To set a new one:"
		for e in "${existing[@]}"; do
			echo "    build/relaisctl --socket ${sock#"$root"/}" \
				"extension passwd $e --generate-password"
		done
	fi

	cat <<EOF

Point a softphone at it:
    SIP server / registrar  127.0.0.1 port 5060 (UDP or TCP),
                            or port 5061 (TLS, self-signed certificate)
    user name / auth ID     100   (second phone: 101)
    realm / domain          $realm / 127.0.0.1
    password                as printed above
For baresip, one line in ~/.baresip/accounts:
    <sip:100@127.0.0.1:5060>;auth_pass=THE-PASSWORD
Dial 101 from 100. Then:
    build/relaisctl --socket ${sock#"$root"/} registrations
    build/relaisctl --socket ${sock#"$root"/} calls --active
    build/relaisctl --socket ${sock#"$root"/} cdr
Stop it with: make demo-stop
EOF
}

case "$cmd" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop [BUILD_DIR]" >&2
	exit 2
	;;
esac
