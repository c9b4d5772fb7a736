# lib.sh: helpers for the integration tests (sourced, never run)
#
# Every test starts a real relaisd with a temporary configuration on free
# loopback ports (redis' start_server), drives it with sipp, baresip or a
# small python3 sender, and stops it by PID. Waiting is always polling with
# a bound (redis' wait_for_condition), never a bare sleep. Each test prints
# one "N passed, M failed" line and exits non-zero when something failed;
# every process it started is killed on exit, whatever the path.
#
# Environment (set by CTest, defaults for a manual run from the repo):
#   RELAISD, RELAISCTL   the programs under test
#   SRC_DIR, BUILD_DIR   source and build trees
#   KEEP_WORKDIR=1       keep the temporary directory even on success
#   RELAIS_LOG_LEVEL     relaisd's log_level (debug)
#   RELAIS_RTP_PORTS     size of relaisd's RTP port range (400)

set -uo pipefail

SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build}
RELAISD=${RELAISD:-$BUILD_DIR/relaisd}
RELAISCTL=${RELAISCTL:-$BUILD_DIR/relaisctl}
SIPP=${SIPP:-sipp}
SCEN_DIR="$SRC_DIR/tests/integration/sipp"
if [ -x /usr/bin/python3 ]; then
	PYTHON=${PYTHON:-/usr/bin/python3}
else
	PYTHON=${PYTHON:-python3}
fi

TEST_NAME=$(basename "$0" .sh)
TESTS_PASSED=0
TESTS_FAILED=0
BG_PIDS=()
RELAIS_PID=
USED_PORTS=" "
RESULT_PRINTED=

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/relais-$TEST_NAME.XXXXXX") || exit 1

# ---- results ------------------------------------------------------------

pass()
{
	TESTS_PASSED=$((TESTS_PASSED + 1))
	echo "ok   - $*"
}

fail()
{
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "FAIL - $*"
}

# fatal error: the rest of the test cannot run
die()
{
	fail "$*"
	exit 1
}

# check DESCRIPTION COMMAND...: pass when COMMAND succeeds
check()
{
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

result()
{
	[ -n "$RESULT_PRINTED" ] && return
	RESULT_PRINTED=1
	# bench/run.sh measures, it has no result line
	[ -n "${LIB_NO_RESULT:-}" ] && [ "$TESTS_FAILED" -eq 0 ] && return
	echo "$TEST_NAME: $TESTS_PASSED passed, $TESTS_FAILED failed"
}

# ---- cleanup ------------------------------------------------------------

kill_pid()
{
	local pid=$1 i

	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

cleanup()
{
	local rc=$? pid

	trap - EXIT INT TERM
	for pid in "${BG_PIDS[@]}"; do
		kill_pid "$pid"
	done
	[ -n "$RELAIS_PID" ] && kill_pid "$RELAIS_PID"

	if [ "$rc" -ne 0 ] && [ "$TESTS_FAILED" -eq 0 ]; then
		TESTS_FAILED=1
		echo "FAIL - $TEST_NAME stopped early (exit status $rc)"
	fi
	# a relaisd built with -DRELAIS_SANITIZE=ON reports on stderr
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
		"$RELAIS_LOG" 2>/dev/null; then
		fail "sanitizer report in $RELAIS_LOG"
	fi
	if [ "$TESTS_FAILED" -ne 0 ] && [ -s "$RELAIS_LOG" ]; then
		relais_log_tail 60
	fi
	result
	if [ "$TESTS_FAILED" -ne 0 ] || [ -n "${KEEP_WORKDIR:-}" ]; then
		echo "$TEST_NAME: logs kept in $WORKDIR"
	else
		rm -rf "$WORKDIR"
	fi
	[ "$TESTS_FAILED" -eq 0 ] && exit 0
	exit 1
}

trap cleanup EXIT
trap 'exit 130' INT TERM

# finish: print the result line and exit with the right status
finish()
{
	exit 0 # cleanup() turns failures into exit status 1
}

# track PID: kill it (TERM, then KILL) when the test ends
track()
{
	BG_PIDS+=("$1")
}

# ---- waiting ------------------------------------------------------------

# wait_for TRIES DELAY COMMAND...: run COMMAND until it succeeds, at most
# TRIES times DELAY seconds apart
wait_for()
{
	local tries=$1 delay=$2 i
	shift 2

	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	return 1
}

# ---- ports --------------------------------------------------------------

port_busy()
{
	local p=$1

	case "$USED_PORTS" in
	*" $p "*) return 0 ;;
	esac
	[ -n "$(ss -Hlntu "( sport = :$p )" 2>/dev/null)" ] && return 0
	# connected UDP sockets and TCP connections on that local port too
	[ -n "$(ss -Hantu "( sport = :$p )" 2>/dev/null)" ] && return 0
	return 1
}

# free_port VAR: set VAR to a port in 30000-59999 free for UDP and TCP
free_port()
{
	local p i

	for ((i = 0; i < 200; i++)); do
		p=$((30000 + RANDOM % 30000))
		if ! port_busy "$p"; then
			USED_PORTS="$USED_PORTS$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	echo "lib.sh: no free port found" >&2
	return 1
}

# free_range N MINVAR MAXVAR: N free consecutive ports, the first even
free_range()
{
	local n=$1 base i p ok used

	used=$(ss -Hantu 2>/dev/null | awk '{ n = split($5, a, ":");
		print a[n] }' | sort -un | tr '\n' ' ')
	for ((i = 0; i < 100; i++)); do
		base=$((30000 + (RANDOM * 2) % (29000 - n)))
		base=$((base - base % 2))
		ok=1
		for ((p = base; p < base + n; p++)); do
			case " $used $USED_PORTS" in
			*" $p "*)
				ok=
				break
				;;
			esac
		done
		if [ -n "$ok" ]; then
			for ((p = base; p < base + n; p++)); do
				USED_PORTS="$USED_PORTS$p "
			done
			printf -v "$2" '%s' "$base"
			printf -v "$3" '%s' "$((base + n - 1))"
			return 0
		fi
	done
	echo "lib.sh: no free port range of $n found" >&2
	return 1
}

# ---- relaisd ------------------------------------------------------------

RELAIS_DIR="$WORKDIR/relais"
RELAIS_CONF="$RELAIS_DIR/relaisd.conf"
RELAIS_SOCK="$RELAIS_DIR/ctl.sock"
RELAIS_LOG="$RELAIS_DIR/relaisd.log"
RELAIS_DB="$RELAIS_DIR/relais.db"
RELAIS_REALM=relais
RELAIS_SIP_PORT=
RELAIS_TLS_PORT=
RELAIS_RTP_MIN=
RELAIS_RTP_MAX=
RELAIS_EXTRA_CONF=

# relais_config: write the configuration (ports chosen on first use and kept
# for a restart); RELAIS_EXTRA_CONF holds more "key = value" lines
relais_config()
{
	mkdir -p "$RELAIS_DIR"
	if [ -z "$RELAIS_SIP_PORT" ]; then
		free_port RELAIS_SIP_PORT || return 1
		free_port RELAIS_TLS_PORT || return 1
		free_range "${RELAIS_RTP_PORTS:-400}" RELAIS_RTP_MIN \
			RELAIS_RTP_MAX || return 1
	fi

	cat >"$RELAIS_CONF" <<EOF
# written by tests/integration/lib.sh for $TEST_NAME
sip_udp_listen = 127.0.0.1:$RELAIS_SIP_PORT
sip_tcp_listen = 127.0.0.1:$RELAIS_SIP_PORT
sip_tls_listen = 127.0.0.1:$RELAIS_TLS_PORT
sip_realm = $RELAIS_REALM
tls_cert = $RELAIS_DIR/tls.pem
media_address = 127.0.0.1
rtp_port_min = $RELAIS_RTP_MIN
rtp_port_max = $RELAIS_RTP_MAX
db_path = $RELAIS_DB
control_socket = $RELAIS_SOCK
pid_file = $RELAIS_DIR/relaisd.pid
log_level = ${RELAIS_LOG_LEVEL:-debug}
EOF
	if [ -n "$RELAIS_EXTRA_CONF" ]; then
		printf '%s\n' "$RELAIS_EXTRA_CONF" >>"$RELAIS_CONF"
	fi
}

# ready: the control socket exists and relaisd said so (at log levels
# above notice, the PID file it writes once every listener is up)
relais_ready()
{
	[ -S "$RELAIS_SOCK" ] || return 1
	grep -q "relaisd ready" "$RELAIS_LOG" && return 0
	[ -s "$RELAIS_DIR/relaisd.pid" ]
}

relais_log_tail()
{
	echo "---- last lines of $RELAIS_LOG"
	tail -n "${1:-40}" "$RELAIS_LOG" 2>/dev/null | sed 's/^/    /'
	echo "----"
}

# relais_start: start relaisd in the foreground (logging to RELAIS_LOG),
# wait until it is ready; fail with the log tail when it is not
relais_start()
{
	local i

	[ -x "$RELAISD" ] || die "relaisd not found at $RELAISD"
	relais_config || die "cannot write the configuration"
	rm -f "$RELAIS_SOCK"

	rm -f "$RELAIS_DIR/relaisd.pid"
	echo "==== $(date +%T) relaisd start" >>"$RELAIS_LOG"
	"$RELAISD" --config "$RELAIS_CONF" --foreground \
		>>"$RELAIS_LOG" 2>&1 </dev/null &
	RELAIS_PID=$!

	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$RELAIS_PID" 2>/dev/null; then
			wait "$RELAIS_PID" 2>/dev/null
			local rc=$?
			RELAIS_PID=
			relais_log_tail
			die "relaisd exited during start (status $rc)"
		fi
		relais_ready && break
		sleep 0.1
	done
	if ! relais_ready; then
		relais_log_tail
		die "relaisd not ready after 20 s"
	fi
	echo "     relaisd pid $RELAIS_PID, SIP 127.0.0.1:$RELAIS_SIP_PORT" \
		"(TLS $RELAIS_TLS_PORT), RTP $RELAIS_RTP_MIN-$RELAIS_RTP_MAX"
}

relais_alive()
{
	[ -n "$RELAIS_PID" ] && kill -0 "$RELAIS_PID" 2>/dev/null
}

# relais_stop [SIGNAL]: stop relaisd, wait (bounded), SIGKILL as a last
# resort; returns relaisd's exit status (137 when it had to be killed)
relais_stop()
{
	local sig=${1:-TERM} i rc

	[ -n "$RELAIS_PID" ] || return 0
	kill -"$sig" "$RELAIS_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RELAIS_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$RELAIS_PID" 2>/dev/null; then
		echo "     relaisd did not stop within 10 s: SIGKILL"
		kill -KILL "$RELAIS_PID" 2>/dev/null
	fi
	wait "$RELAIS_PID" 2>/dev/null
	rc=$?
	RELAIS_PID=
	return $rc
}

# ctl ARGS...: relaisctl on this test's daemon
ctl()
{
	"$RELAISCTL" --socket "$RELAIS_SOCK" "$@"
}

# ext_add NUMBER PASSWORD [NAME]
ext_add()
{
	ctl extension add "$1" --name "${3:-Test $1}" --password "$2" >/dev/null
}

# ---- JSON ---------------------------------------------------------------

# json_query EXPR: evaluate a python expression on the JSON read from
# stdin (bound to `j`), print the result (a list one item a line); fails
# on a document that is not JSON or a missing key
json_query()
{
	"$PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
if isinstance(r, (list, tuple)):
    for x in r:
        print(x)
elif r is not None:
    print(r)
' "$1"
}

# ---- sipp ---------------------------------------------------------------

# sipp_args NAME SCENARIO [SIPP ARGS...]: fill SIPP_CMD with a bounded
# sipp command line logging to WORKDIR/NAME.*
sipp_args()
{
	local name=$1 scen=$2 cp
	shift 2

	free_port cp || return 1
	SIPP_CMD=(timeout -k 5 "${SIPP_TIMEOUT:-60}" "$SIPP"
		-sf "$(scenario_path "$scen")" -nostdin -cp "$cp"
		-trace_msg -message_file "$WORKDIR/$name.msg"
		-trace_err -error_file "$WORKDIR/$name.err"
		-trace_logs -log_file "$WORKDIR/$name.log"
		"$@")
}

# sipp_run NAME SCENARIO [SIPP ARGS...]: run sipp in the foreground;
# returns sipp's exit status (0 when every call succeeded)
sipp_run()
{
	local name=$1
	sipp_args "$@" || return 1
	"${SIPP_CMD[@]}" >"$WORKDIR/$name.out" 2>&1 </dev/null
}

# sipp_bg NAME SCENARIO [ARGS...]: same, in the background; sets SIPP_PID
# (killed at the end of the test if still running)
sipp_bg()
{
	local name=$1
	sipp_args "$@" || return 1
	"${SIPP_CMD[@]}" >"$WORKDIR/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	track "$SIPP_PID"
}

# sipp_bg_again NAME SCENARIO [ARGS...]: sipp_bg for a sipp taking over a
# port another process of the test just released: started again (at most
# 10 times, 0.5 s apart) while it dies at once, e.g. on "Unable to bind"
sipp_bg_again()
{
	local i

	for ((i = 0; i < 10; i++)); do
		sipp_bg "$@" || return 1
		sleep 0.5
		kill -0 "$SIPP_PID" 2>/dev/null && return 0
		wait "$SIPP_PID" 2>/dev/null
	done
	return 1
}

# sipp_wait PID: wait for a background sipp, return its status
sipp_wait()
{
	wait "$1"
}

# sipp_show NAME: print what a sipp run logged (after a failure)
sipp_show()
{
	local f
	for f in "$WORKDIR/$1.err" "$WORKDIR/$1.out" "$WORKDIR/$1.log"; do
		[ -s "$f" ] || continue
		echo "---- $f"
		tail -n 30 "$f" | sed 's/^/    /'
	done
	if [ -s "$WORKDIR/$1.msg" ]; then
		echo "---- $WORKDIR/$1.msg (last 60 lines)"
		tail -n 60 "$WORKDIR/$1.msg" | sed 's/^/    /'
	fi
}

# scenario_path NAME: a scenario of tests/integration/sipp, or a file
scenario_path()
{
	case "$1" in
	*/*) echo "$1" ;;
	*) echo "$SCEN_DIR/$1.xml" ;;
	esac
}

# scenario_make OUT NAME KEY=VALUE...: copy a scenario replacing @KEY@
# (used where sipp cannot take a variable, e.g. an expected status code)
scenario_make()
{
	local out=$1 src args=() kv
	src=$(scenario_path "$2")
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$src" >"$out"
}

# users_csv FILE USER PASSWORD [USER PASSWORD...]: sipp injection file,
# one line per user: "USER;[authentication username=USER password=PW]"
# (sipp 3.6 expands no [field] inside [authentication], but a field may
# hold the whole keyword)
users_csv()
{
	local f=$1
	shift
	echo SEQUENTIAL >"$f"
	while [ $# -ge 2 ]; do
		echo "$1;[authentication username=$1 password=$2]" >>"$f"
		shift 2
	done
}

# sipp_register NAME USER PASSWORD PORT [EXPIRES] [SCENARIO]: register
# USER's contact 127.0.0.1:PORT (a sipp UAS can then listen there); the
# array SIPP_EXTRA adds sipp options (e.g. SIPP_EXTRA=(-t t1) for TCP)
sipp_register()
{
	local name=$1 user=$2 pw=$3 port=$4 exp=${5:-300}
	local scen=${6:-reg_ok}

	local set=()

	# only reg_ok and reg_423 declare the variable
	case "$scen" in
	reg_ok | reg_423) set=(-set expires "$exp") ;;
	esac
	users_csv "$WORKDIR/$name.csv" "$user" "$pw"
	sipp_run "$name" "$scen" 127.0.0.1:"$RELAIS_SIP_PORT" \
		-i 127.0.0.1 -p "$port" -m 1 -inf "$WORKDIR/$name.csv" \
		"${set[@]}" -recv_timeout 5000 -timeout 20 "${SIPP_EXTRA[@]}"
}

SIPP_EXTRA=()

# ---- raw messages -------------------------------------------------------

# sip_send PROTO FILE [WAIT_S]: send FILE's bytes to relaisd over udp or
# tcp, print the status code of the first response line, or "none" when
# nothing came back within WAIT_S seconds (default 1)
sip_send()
{
	"$PYTHON" - "$1" "$2" "$RELAIS_SIP_PORT" "${3:-1}" <<'PYEOF'
import re, socket, sys, time

proto, path, port, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
data = open(path, "rb").read()
addr = ("127.0.0.1", port)

if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(data, addr)
else:
    s = socket.create_connection(addr, timeout=wait)
    if data:
        s.sendall(data)
s.settimeout(0.1)
deadline = time.time() + wait
buf = b""
while time.time() < deadline:
    try:
        if proto == "udp":
            chunk, _ = s.recvfrom(65535)
        else:
            chunk = s.recv(65535)
            if not chunk:
                break
    except socket.timeout:
        continue
    except (ConnectionResetError, OSError):
        break
    buf += chunk
    if b"\r\n" in buf:
        break
m = re.match(rb"SIP/2\.0 (\d{3}) ", buf)
print(m.group(1).decode() if m else ("none" if not buf else "junk"))
PYEOF
}

# sip_options [PROTO]: send an OPTIONS to relaisd, print the status code
sip_options()
{
	local proto=${1:-udp} f="$WORKDIR/options.$$.$RANDOM"
	local tp
	tp=$(echo "$proto" | tr '[:lower:]' '[:upper:]')
	printf '%s\r\n' \
		"OPTIONS sip:127.0.0.1:$RELAIS_SIP_PORT SIP/2.0" \
		"Via: SIP/2.0/$tp 127.0.0.1:9;branch=z9hG4bK$RANDOM$RANDOM;rport" \
		"Max-Forwards: 70" \
		"To: <sip:127.0.0.1:$RELAIS_SIP_PORT>" \
		"From: <sip:probe@127.0.0.1>;tag=$RANDOM" \
		"Call-ID: options-$RANDOM$RANDOM@127.0.0.1" \
		"CSeq: 1 OPTIONS" \
		"Content-Length: 0" "" >"$f"
	sip_send "$proto" "$f" 2
	rm -f "$f"
}

# ---- captures -----------------------------------------------------------

# capture_start NAME FILTER: tshark on lo into WORKDIR/NAME.pcap; waits
# until tshark is capturing; sets CAPTURE_PID
capture_start()
{
	local name=$1 filter=$2

	tshark -i lo -f "$filter" -w "$WORKDIR/$name.pcap" \
		>"$WORKDIR/$name.tshark" 2>&1 </dev/null &
	CAPTURE_PID=$!
	track "$CAPTURE_PID"
	wait_for 100 0.1 grep -q "Capturing on" "$WORKDIR/$name.tshark"
}

# capture_stop: stop the capture started last (lets tshark flush)
capture_stop()
{
	kill_pid "$CAPTURE_PID"
}

# capture_ports NAME: "srcport dstport" of every UDP packet of a capture,
# in WORKDIR/NAME.ports (one tshark pass; count them with ports_count)
capture_ports()
{
	tshark -r "$WORKDIR/$1.pcap" -T fields -e udp.srcport -e udp.dstport \
		2>/dev/null >"$WORKDIR/$1.ports"
}

# ports_count NAME SRC DST: packets from port SRC to port DST; either may
# be "MIN-MAX" for a range
ports_count()
{
	awk -v s="$2" -v d="$3" '
		function in_(p, r,   a) {
			if (split(r, a, "-") == 2)
				return p + 0 >= a[1] + 0 && p + 0 <= a[2] + 0
			return p + 0 == r + 0
		}
		NF == 2 && in_($1, s) && in_($2, d) { n++ }
		END { print n + 0 }' "$WORKDIR/$1.ports"
}

# ---- several relaisd at once (SBC tests) ----------------------------------
# A node is one more relaisd in WORKDIR/NAME (NAME: letters, digits, _),
# with its own database, control socket and log, started by node_start and
# stopped by PID at the end of the test (it is tracked). The base
# configuration has no SIP listener of its own: the lines given add them
# (e.g. "sip_udp_listen = 127.0.40.1:5060") or the sbc_* keys.

# node_start NAME [CONFIG LINE...]: start relaisd NAME, wait until ready;
# sets NODE_PID_NAME; dies with the log tail when it does not start
node_start()
{
	local name=$1 dir="$WORKDIR/$1" pid i rmin rmax
	shift

	mkdir -p "$dir"
	free_range 8 rmin rmax || die "no free ports for $name"
	{
		echo "# written by tests/integration/lib.sh for $TEST_NAME"
		echo "sip_udp_listen ="
		echo "sip_tcp_listen ="
		echo "sip_tls_listen ="
		echo "sip_realm = $RELAIS_REALM"
		echo "tls_cert = $dir/tls.pem"
		echo "rtp_port_min = $rmin"
		echo "rtp_port_max = $rmax"
		echo "db_path = $dir/relais.db"
		echo "control_socket = $dir/ctl.sock"
		echo "pid_file = $dir/relaisd.pid"
		echo "log_level = ${RELAIS_LOG_LEVEL:-debug}"
		printf '%s\n' "$@"
	} >"$dir/relaisd.conf"
	rm -f "$dir/ctl.sock" "$dir/relaisd.pid"
	echo "==== $(date +%T) relaisd $name start" >>"$dir/relaisd.log"
	"$RELAISD" --config "$dir/relaisd.conf" --foreground \
		>>"$dir/relaisd.log" 2>&1 </dev/null &
	pid=$!
	track "$pid"
	printf -v "NODE_PID_$name" '%s' "$pid"
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			node_log_tail "$name"
			die "relaisd $name exited during start"
		fi
		node_ready "$name" && break
		sleep 0.1
	done
	if ! node_ready "$name"; then
		node_log_tail "$name"
		die "relaisd $name not ready after 20 s"
	fi
	echo "     relaisd $name pid $pid"
}

node_ready()
{
	local dir="$WORKDIR/$1"

	[ -S "$dir/ctl.sock" ] || return 1
	grep -q "relaisd ready" "$dir/relaisd.log" && return 0
	[ -s "$dir/relaisd.pid" ]
}

node_log()
{
	echo "$WORKDIR/$1/relaisd.log"
}

node_log_tail()
{
	echo "---- last lines of $(node_log "$1")"
	tail -n "${2:-40}" "$(node_log "$1")" 2>/dev/null | sed 's/^/    /'
	echo "----"
}

node_alive()
{
	local pid="NODE_PID_$1"
	[ -n "${!pid:-}" ] && kill -0 "${!pid}" 2>/dev/null
}

# node_stop NAME: stop relaisd NAME (TERM, then KILL after 5 s)
node_stop()
{
	local pid="NODE_PID_$1"
	[ -n "${!pid:-}" ] && kill_pid "${!pid}"
}

# nctl NAME ARGS...: relaisctl on node NAME
nctl()
{
	local name=$1
	shift
	"$RELAISCTL" --socket "$WORKDIR/$name/ctl.sock" "$@"
}

# node_logged NAME PATTERN: node NAME's log has a line matching PATTERN
node_logged()
{
	grep -qE "$2" "$(node_log "$1")"
}

# nodes_show NAME...: the log tails of the nodes (after a failure)
nodes_show()
{
	local n
	for n in "$@"; do
		node_log_tail "$n" 60
	done
}

# ---- SBC -----------------------------------------------------------------

# sbc_json NODE ARGS...: `relaisctl --json sbc ARGS` on NODE
sbc_json()
{
	local name=$1
	shift
	nctl "$name" --json sbc "$@"
}

# sbc_denied NODE ADDR [REASON]: ADDR is on NODE's deny-list (with a
# reason containing REASON, e.g. "brute")
sbc_denied()
{
	sbc_json "$1" security deny list 2>/dev/null |
		"$PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
if isinstance(j, dict):
    j = next((v for v in j.values() if isinstance(v, list)), [])
addr, reason = sys.argv[1], sys.argv[2]
for e in j:
    s = json.dumps(e)
    if "\"%s\"" % addr in s or "\"%s/32\"" % addr in s:
        if reason.lower() in s.lower():
            sys.exit(0)
sys.exit(1)
' "$2" "${3:-}"
}

sbc_not_denied()
{
	! sbc_denied "$1" "$2"
}

# sbc_counter NODE KEY: the first number under KEY anywhere in
# `relaisctl --json sbc status` (e.g. dropped_denied), 0 when absent
sbc_counter()
{
	sbc_json "$1" status 2>/dev/null | "$PYTHON" -c '
import json, sys
def find(o, k):
    if isinstance(o, dict):
        if k in o and isinstance(o[k], (int, float)):
            return o[k]
        for v in o.values():
            r = find(v, k)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find(v, k)
            if r is not None:
                return r
    return None
try:
    r = find(json.load(sys.stdin), sys.argv[1])
except ValueError:
    r = None
print(int(r) if r is not None else 0)
' "$2"
}

# sip_probe SRC_IP DST_IP DST_PORT [WAIT_S] [UA]: one OPTIONS over UDP
# from SRC_IP (any port) to DST_IP:DST_PORT; prints the status code of
# the answer or "none" (nothing within WAIT_S seconds, default 2)
sip_probe()
{
	"$PYTHON" - "$1" "$2" "$3" "${4:-2}" "${5:-relais-tests}" <<'PYEOF'
import random, re, socket, sys, time
src, dst, port, wait, ua = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
tag = "%08x" % random.getrandbits(32)
msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
       "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
       "Max-Forwards: 70\r\n"
       "To: <sip:%s:%d>\r\n"
       "From: <sip:probe@%s>;tag=%s\r\n"
       "Call-ID: probe-%s@%s\r\n"
       "CSeq: 1 OPTIONS\r\n"
       "User-Agent: %s\r\n"
       "Content-Length: 0\r\n\r\n") % (dst, port, src, lp, tag, dst, port,
                                       src, tag, tag, src, ua)
s.sendto(msg.encode(), (dst, port))
s.settimeout(0.1)
deadline = time.time() + wait
code = "none"
while time.time() < deadline:
    try:
        d, _ = s.recvfrom(65535)
    except socket.timeout:
        continue
    m = re.match(rb"SIP/2\.0 (\d{3}) ", d)
    if m and m.group(1) != b"100":
        code = m.group(1).decode()
        break
print(code)
PYEOF
}

# capture_start_if IFACE NAME FILTER: capture_start on another interface
capture_start_if()
{
	local ifc=$1 name=$2 filter=$3

	tshark -i "$ifc" -f "$filter" -w "$WORKDIR/$name.pcap" \
		>"$WORKDIR/$name.tshark" 2>&1 </dev/null &
	CAPTURE_PID=$!
	track "$CAPTURE_PID"
	wait_for 100 0.1 grep -q "Capturing on" "$WORKDIR/$name.tshark"
}

# capture_leaks NAME HOSTS FORBIDDEN: in capture NAME, the packets sent
# from or to an address matching the regular expression HOSTS whose
# payload (as text) matches FORBIDDEN; prints "SIP-PACKETS LEAKS" and
# writes the leaking payloads to WORKDIR/NAME.leaks
capture_leaks()
{
	tshark -r "$WORKDIR/$1.pcap" -T fields -e ip.src -e ip.dst \
		-e udp.payload -e tcp.payload 2>/dev/null |
		"$PYTHON" -c '
import re, sys
hosts, bad, out = re.compile(sys.argv[1]), re.compile(sys.argv[2]), \
    open(sys.argv[3], "w")
sip = leaks = 0
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or not (hosts.fullmatch(f[0]) or hosts.fullmatch(f[1])):
        continue
    hexs = "".join(x.replace(":", "").replace(",", "") for x in f[2:])
    try:
        text = bytes.fromhex(hexs).decode("latin-1")
    except ValueError:
        continue
    if "SIP/2.0" in text:
        sip += 1
    if bad.search(text):
        leaks += 1
        out.write("%s -> %s\n%s\n\n" % (f[0], f[1], text))
print(sip, leaks)
' "$2" "$3" "$WORKDIR/$1.leaks"
}

# capture_flows NAME: "src dst sport dport" of every UDP packet of capture
# NAME in WORKDIR/NAME.flows (count them with flows_count)
capture_flows()
{
	tshark -r "$WORKDIR/$1.pcap" -Y udp -T fields -e ip.src -e ip.dst \
		-e udp.srcport -e udp.dstport 2>/dev/null >"$WORKDIR/$1.flows"
}

# flows_count NAME SRC_RE DST_RE [SPORTS] [DPORTS]: packets from an
# address matching SRC_RE to one matching DST_RE (awk regular
# expressions, anchored), ports in SPORTS/DPORTS ("MIN-MAX", default any)
flows_count()
{
	awk -v s="^($2)\$" -v d="^($3)\$" -v sp="${4:-0-65535}" \
		-v dp="${5:-0-65535}" '
		function in_(p, r,   a) {
			if (split(r, a, "-") == 2)
				return p + 0 >= a[1] + 0 && p + 0 <= a[2] + 0
			return p + 0 == r + 0
		}
		$1 ~ s && $2 ~ d && in_($3, sp) && in_($4, dp) { n++ }
		END { print n + 0 }' "$WORKDIR/$1.flows"
}

# capture_callids NAME HOSTS: the Call-IDs of the SIP messages of capture
# NAME sent from or to an address matching HOSTS (a regular expression),
# one a line, sorted
capture_callids()
{
	tshark -r "$WORKDIR/$1.pcap" -T fields -e ip.src -e ip.dst \
		-e udp.payload -e tcp.payload 2>/dev/null |
		"$PYTHON" -c '
import re, sys
hosts = re.compile(sys.argv[1])
ids = set()
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or not (hosts.fullmatch(f[0]) or hosts.fullmatch(f[1])):
        continue
    hexs = "".join(x.replace(":", "").replace(",", "") for x in f[2:])
    try:
        text = bytes.fromhex(hexs).decode("latin-1")
    except ValueError:
        continue
    for m in re.finditer(r"^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", text,
                         re.M | re.I):
        ids.add(m.group(1))
for i in sorted(ids):
    print(i)
' "$2"
}

# port_pref VAR PORT: set VAR to PORT when it is free for UDP and TCP
# (e.g. a default such as 5060), else to a free port; the SBC tests use
# the defaults unless another run holds them
port_pref()
{
	if port_busy "$2"; then
		free_port "$1"
	else
		USED_PORTS="$USED_PORTS$2 "
		printf -v "$1" '%s' "$2"
	fi
}

# sbc_pbx_off: the SBC processes of the SBC tests run without SIP
# listeners of their own (sip_udp_listen, sip_tcp_listen and
# sip_tls_listen empty: node_start's base): a dedicated SBC. Checked once
# with --check-config; SBC_PBX_OFF stays empty (kept so that a test can
# add lines to the SBC's configuration).
SBC_PBX_OFF=()
sbc_pbx_off()
{
	local f="$WORKDIR/pbx-off.conf" out
	printf '%s\n' "sip_udp_listen =" "sip_tcp_listen =" \
		"sip_tls_listen =" "db_path = $WORKDIR/pbx-off.db" \
		"control_socket = $WORKDIR/pbx-off.sock" \
		"sbc_mode = standard" "sbc_public_interface = 127.0.20.1" \
		"sbc_private_interface = 127.0.30.1" \
		"sbc_pbx = 127.0.40.1" >"$f"
	if out=$("$RELAISD" --config "$f" --check-config 2>&1); then
		pass "an SBC without PBX listeners is a valid configuration"
		return 0
	fi
	fail "relaisd refuses an SBC without PBX listeners: $out"
	return 1
}
