#!/usr/bin/env bash
#
# bench/run.sh [BUILD_DIR]: load figures for relaisd, measured with sipp
#
#   1. registrations per second: 10,000 distinct extensions, each a
#      REGISTER, its 401 and the authenticated REGISTER (MD5 digest)
#   2. concurrent calls with RTP flowing both ways (the callee echoes):
#      memory per call (VmRSS before vs. during) and relaisd's CPU
#   3. call setups per second: INVITE/407/INVITE/180/200/ACK/BYE with media
#      anchored (relay ports allocated, SDP rewritten), no RTP
#   4. outbound call setups per second through an IP trunk: the same calls
#      to 0142000000, routed by an outbound rule (strip 1, prepend +33) to
#      a sipp carrier (bench/carrier_answer.xml) answering 180/200
#   5. the SBC under a flood: a relaisd SBC (public 127.0.20.1, private
#      127.0.30.1) in front of a sipp "PBX" (bench/callee_answer.xml on
#      127.0.40.1); a legitimate caller on 127.0.10.5 (allow-listed) makes
#      calls with RTP (bench/sbc_uac.xml) without, then during a flood of
#      OPTIONS at the maximum rate from 127.0.10.66, which the SBC denies
#      within its window: requests/s the SBC drops (relaisctl sbc status
#      counters over the elapsed time), its CPU, and the legitimate
#      call's setup time (sipp's response time to the INVITE) both ways
#   6. call setups per second through the SBC: sipp UAC -> SBC -> sipp
#      UAS as the PBX, RTP streamed and echoed through the SBC's relay
#
# The 10,000 extensions are written straight into the SQLite database
# (HA1 hashes precomputed) before relaisd starts. Everything runs on
# loopback; the figures are printed, nothing is asserted. Each sipp run is
# bounded, the whole run stays under 10 minutes.
#
# Knobs: BENCH_USERS (10000), BENCH_REG_RATE (5000/s), BENCH_CALLS (2000),
# BENCH_CALL_RATE (500/s, sections 3 and 4), BENCH_CONCURRENT (200),
# BENCH_HOLD_S (20), BENCH_SETTLE_S (33: pause before section 4),
# BENCH_FLOOD_S (10), BENCH_FLOOD_RATE (20000/s, sipp's "maximum"),
# BENCH_LEGIT_CALLS (100 at 10/s), BENCH_SBC_CALLS (1000),
# BENCH_SBC_RATE (200/s), BENCH_SBC_HOLD_MS (1000: RTP per call, section 6),
# BENCH_TRACE_MSG=1 (sipp traces every message into WORKDIR/NAME.msg;
# KEEP_WORKDIR=1 keeps them).

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
export SRC_DIR=${SRC_DIR:-$(cd "$BENCH_DIR/.." && pwd)}
BUILD_DIR=${1:-${BUILD_DIR:-$SRC_DIR/build}}
case "$BUILD_DIR" in
/*) ;;
*) BUILD_DIR="$SRC_DIR/$BUILD_DIR" ;;
esac
export BUILD_DIR
export RELAISD="$BUILD_DIR/relaisd" RELAISCTL="$BUILD_DIR/relaisctl"

USERS=${BENCH_USERS:-10000}
REG_RATE=${BENCH_REG_RATE:-5000}
CALLS=${BENCH_CALLS:-2000}
CALL_RATE=${BENCH_CALL_RATE:-500}
CONCURRENT=${BENCH_CONCURRENT:-200}
HOLD_S=${BENCH_HOLD_S:-20}
SETTLE_S=${BENCH_SETTLE_S:-33}
FIRST=10000 # extensions FIRST .. FIRST + USERS - 1

# lib.sh: relaisd start/stop on free ports, sipp helpers, cleanup trap
RELAIS_LOG_LEVEL=notice
RELAIS_RTP_PORTS=$(((CONCURRENT + 600) * 4)) # setups at high rates overlap
LIB_NO_RESULT=1
. "$SRC_DIR/tests/integration/lib.sh"

SUMMARY=()
figure()
{
	SUMMARY+=("$(printf '%-44s %s' "$1" "$2")")
	printf '  %-44s %s\n' "$1" "$2"
}

now()
{
	date +%s.%N
}

rate()
{
	awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t;
		else print "n/a" }'
}

# rss_kb PID: resident memory of a process in KiB
rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# cpu_ticks PID: user + system time of a process in clock ticks
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}

# udp_drops [PORT]: datagrams dropped because a socket's receive buffer
# was full: on the whole host, or on the UDP sockets bound to PORT
udp_drops()
{
	if [ -z "${1:-}" ]; then
		awk '/^Udp:/ { if (!n++) { for (i = 2; i <= NF; i++) h[$i] = i }
			else print $h["RcvbufErrors"] }' /proc/net/snmp 2>/dev/null
		return
	fi
	awk -v port="$(printf '%04X' "$1")" 'NR > 1 {
		split($2, a, ":"); if (a[2] == port) d += $NF }
		END { print d + 0 }' /proc/net/udp 2>/dev/null
}

# load_start, load_stop, load_report: relaisd's CPU, and the datagrams
# dropped at relaisd's SIP socket and elsewhere on the host (the sipp
# sockets), from load_start to load_stop
load_start()
{
	LOAD_T0=$(now)
	LOAD_C0=$(cpu_ticks "$PID")
	LOAD_D0=$(udp_drops)
	LOAD_R0=$(udp_drops "$RELAIS_SIP_PORT")
}

load_stop()
{
	LOAD_T1=$(now)
	LOAD_C1=$(cpu_ticks "$PID")
	LOAD_D1=$(udp_drops)
	LOAD_R1=$(udp_drops "$RELAIS_SIP_PORT")
}

load_report()
{
	local r=$((${LOAD_R1:-0} - ${LOAD_R0:-0}))

	figure "  relaisd CPU" \
		"$(awk -v a="$LOAD_C0" -v b="$LOAD_C1" -v t0="$LOAD_T0" \
			-v t1="$LOAD_T1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
			if (t1 > t0) printf "%.0f%% of one core",
				100 * (b - a) / hz / (t1 - t0) }')"
	figure "  UDP drops, full buffer: relaisd / others" \
		"$r / $((${LOAD_D1:-0} - ${LOAD_D0:-0} - r))"
}

# sipp_counts NAME: "successful failed" from a sipp statistics file
sipp_counts()
{
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		{ s = $h["SuccessfulCall(C)"]; f = $h["FailedCall(C)"] }
		END { print s + 0, f + 0 }' "$WORKDIR/$1.csv" 2>/dev/null
}

# failures NAME: why calls of a sipp run failed. From its statistics file
# the non-zero failure counters, the messages that matched no call any
# more (OutOfCallMsgs: late answers to retransmissions), sipp's own
# retransmissions and watchdog alarms (sipp itself late); from its error
# file the unexpected messages, by what came instead of what the
# scenario expected (a status code or a request's method).
failures()
{
	local f="$WORKDIR/$1.err" re what

	what=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
		{ for (i in h) v[i] = $i }
		END { for (i = 1; i in h; i++) {
			n = h[i]
			if (n !~ /\(C\)$/ || n == "FailedCall(C)" || v[i] + 0 == 0)
				continue
			if (n !~ /^(Failed|OutOfCall|DeadCall|Retrans|Watchdog)/)
				continue
			sub(/\(C\)$/, "", n)
			printf "%s%s %s", sep, n, v[i]; sep = ", "
		} }' "$WORKDIR/$1.csv" 2>/dev/null)
	[ -n "$what" ] && figure "  sipp counters ($1)" "$what"

	[ -s "$f" ] || return 0
	re="s/.*while expecting '\([^']*\)'.*received "
	re="$re'\(SIP\/2\.0 \)\{0,1\}\([^ ']*\).*/\3 \1/p"
	what=$(sed -n "$re" "$f" | sort | uniq -c | sort -rn |
		awk '{ printf "%s%s instead of %s x%s", sep, $2, $3, $1;
			sep = ", " }')
	[ -n "$what" ] && figure "  unexpected answers ($1)" "$what"
	return 0
}

# stats NAME: sipp options writing statistics to WORKDIR/NAME.csv
stats()
{
	STATS=(-trace_stat -stf "$WORKDIR/$1.csv" -fd 1)
}

# sipp_quiet_run / sipp_quiet_bg NAME SCENARIO [ARGS...]: sipp_run and
# sipp_bg without the trace of every message (-trace_msg) unless
# BENCH_TRACE_MSG=1; errors (NAME.err) and statistics are still written
sipp_quiet()
{
	local i cmd=()

	sipp_args "$@" || return 1
	[ "${BENCH_TRACE_MSG:-0}" = 1 ] && return 0
	for ((i = 0; i < ${#SIPP_CMD[@]}; i++)); do
		case "${SIPP_CMD[i]}" in
		-trace_msg) ;;
		-message_file) i=$((i + 1)) ;;
		*) cmd+=("${SIPP_CMD[i]}") ;;
		esac
	done
	SIPP_CMD=("${cmd[@]}")
}

sipp_quiet_run()
{
	sipp_quiet "$@" || return 1
	"${SIPP_CMD[@]}" >"$WORKDIR/$1.out" 2>&1 </dev/null
}

sipp_quiet_bg()
{
	sipp_quiet "$@" || return 1
	"${SIPP_CMD[@]}" >"$WORKDIR/$1.out" 2>&1 </dev/null &
	SIPP_PID=$!
	track "$SIPP_PID"
}

echo "==== relaisd bench ($(nproc) cores; $USERS extensions)"

# ---- database with USERS extensions ------------------------------------
relais_start
relais_stop || true # the schema now exists

t0=$(now)
"$PYTHON" - "$RELAIS_REALM" "$FIRST" "$USERS" "$WORKDIR" <<'PYEOF' |
import hashlib, sys
realm, first, n, wd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4]
csv = open(wd + "/users.csv", "w")
csv.write("SEQUENTIAL\n")
print("BEGIN;")
for num in range(first, first + n):
    pw = "Bench-%d-Pw!" % num
    a1 = ("%d:%s:%s" % (num, realm, pw)).encode()
    print("INSERT INTO extensions (number, name, ha1_md5, ha1_sha256, "
          "created) VALUES ('%d', 'Bench %d', '%s', '%s', "
          "strftime('%%s','now'));" % (num, num,
                                        hashlib.md5(a1).hexdigest(),
                                        hashlib.sha256(a1).hexdigest()))
    csv.write("%d;[authentication username=%d password=%s]\n"
              % (num, num, pw))
print("COMMIT;")
PYEOF
	sqlite3 "$RELAIS_DB" || die "cannot insert the extensions"
figure "extensions inserted (sqlite3)" \
	"$USERS in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"

relais_start
PID=$RELAIS_PID
rss_idle=$(rss_kb "$PID")
figure "relaisd VmRSS idle, $USERS extensions" "$rss_idle KiB"

free_port PREG
free_port PCALL
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END

# ---- 1. registrations ----------------------------------------------------
echo "---- registrations: $USERS users, target rate $REG_RATE/s"
stats reg
load_start
t0=$(now)
SIPP_TIMEOUT=240 sipp_quiet_run reg reg_ok 127.0.0.1:"$RELAIS_SIP_PORT" \
	-i 127.0.0.1 -p "$PREG" -inf "$WORKDIR/users.csv" -set expires 3600 \
	-r "$REG_RATE" -l 1000 -m "$USERS" -recv_timeout 10000 \
	-timeout 200 "${STATS[@]}"
t1=$(now)
load_stop
read -r ok ko < <(sipp_counts reg)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "registrations OK / failed" "${ok:-0} / ${ko:-0} in $el s"
figure "registrations per second" "$(rate "${ok:-0}" "$el")"
load_report
failures reg
figure "relaisd VmRSS after registrations" "$(rss_kb "$PID") KiB"

# Every extension's contact is 127.0.0.1:PREG: one sipp UAS answers there
# for all of them, echoing RTP.
SIPP_TIMEOUT=480 sipp_quiet_bg uas "$BENCH_DIR/callee_answer.xml" \
	-i 127.0.0.1 -p "$PREG" -mi 127.0.0.1 -mp "$MPB" -rtp_echo \
	-recv_timeout $(((HOLD_S + 60) * 1000))
UAS_PID=$SIPP_PID
wait_for 50 0.1 bash -c "[ -n \"\$(ss -Hlnu '( sport = :$PREG )')\" ]"

# ---- 2. concurrent calls with RTP ----------------------------------------
echo "---- $CONCURRENT concurrent calls with RTP, held ${HOLD_S}s"
sox -q -n -r 8000 -c 1 -t al "$WORKDIR/tone.al" synth 2 sine 440 \
	2>/dev/null || die "sox cannot write the tone"
scenario_make "$WORKDIR/uac_hold.xml" "$BENCH_DIR/uac_hold.xml" \
	TONE="$WORKDIR/tone.al"

active()
{
	ctl --json calls --active 2>/dev/null | json_query "len(j)" \
		2>/dev/null || echo 0
}

idle()
{
	[ "$(active)" -eq 0 ]
}

# still_up: after a section, the calls relaisd still holds once every sipp
# is done (at most 15 s later), e.g. one whose ACK and BYE were both lost:
# uac_setup.xml takes a retransmitted 200 of the INVITE for the answer to
# its BYE (sipp matches a response's CSeq method against every request
# the scenario sent) and counts such a call as successful
still_up()
{
	local n

	wait_for 150 0.1 idle
	n=$(active)
	if [ "${n:-0}" -gt 0 ]; then
		figure "  calls still up in relaisd 15 s later" "$n"
	fi
}

rss_before=$(rss_kb "$PID")
stats hold
SIPP_TIMEOUT=$((HOLD_S + 120)) sipp_quiet_bg hold "$WORKDIR/uac_hold.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCALL" -s $((FIRST + 2)) \
	-inf "$WORKDIR/users.csv" -mi 127.0.0.1 -mp "$MPA" \
	-auth_uri "$((FIRST + 2))@127.0.0.1:$RELAIS_SIP_PORT" \
	-r 50 -l "$CONCURRENT" -m "$CONCURRENT" -d $((HOLD_S * 1000)) \
	-recv_timeout 20000 "${STATS[@]}"
HOLD_PID=$SIPP_PID

peak=0
for ((i = 0; i < 10 * (HOLD_S - 2); i++)); do
	n=$(active)
	[ "${n:-0}" -gt "$peak" ] && peak=$n
	[ "${n:-0}" -ge "$CONCURRENT" ] && break
	sleep 0.1
done
sleep 2 # RTP established on every call
n=$(active)
rss_during=$(rss_kb "$PID")
c0=$(cpu_ticks "$PID")
sleep 5
c1=$(cpu_ticks "$PID")
hz=$(getconf CLK_TCK)
figure "calls active (peak seen)" "${n:-0} (${peak})"
figure "relaisd VmRSS before / during" "$rss_before / $rss_during KiB"
if [ "${n:-0}" -gt 0 ]; then
	figure "VmRSS per active call" \
		"$(awk -v a="$rss_before" -v b="$rss_during" -v n="$n" \
			'BEGIN { printf "%.1f KiB", (b - a) / n }')"
fi
figure "relaisd CPU while relaying" \
	"$(awk -v a="$c0" -v b="$c1" -v hz="$hz" \
		'BEGIN { printf "%.0f%% of one core", 100 * (b - a) / hz / 5 }')"

sipp_wait "$HOLD_PID"
read -r ok ko < <(sipp_counts hold)
figure "held calls OK / failed" "${ok:-0} / ${ko:-0}"
failures hold
figure "relaisd VmRSS after the calls" "$(rss_kb "$PID") KiB"

# ---- 3. call setups ------------------------------------------------------
echo "---- call setups: $CALLS calls, target rate $CALL_RATE/s"
stats setup
load_start
t0=$(now)
SIPP_TIMEOUT=180 sipp_quiet_run setup "$BENCH_DIR/uac_setup.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCALL" -s $((FIRST + 1)) \
	-inf "$WORKDIR/users.csv" -mi 127.0.0.1 -mp "$MPA" \
	-auth_uri "$((FIRST + 1))@127.0.0.1:$RELAIS_SIP_PORT" \
	-r "$CALL_RATE" -l 500 -m "$CALLS" -d 100 -recv_timeout 10000 \
	-timeout 150 "${STATS[@]}"
t1=$(now)
load_stop
read -r ok ko < <(sipp_counts setup)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "calls OK / failed (100 ms each)" "${ok:-0} / ${ko:-0} in $el s"
figure "call setups per second" "$(rate "${ok:-0}" "$el")"
load_report
failures setup
failures uas
still_up
figure "relaisd VmRSS after the call setups" "$(rss_kb "$PID") KiB"

kill_pid "$UAS_PID"

# ---- 4. outbound call setups through a trunk ------------------------------
# An IP trunk toward a sipp carrier on loopback (no OPTIONS probes) and the
# rule "prefix 0, strip 1, prepend +33": each call of section 3's caller
# scenario to 0142000000 leaves relaisd as an INVITE to +33142000000.
echo "---- trunk call setups: $CALLS calls to 0142000000," \
	"target rate $CALL_RATE/s"

# libre keeps every finished transaction, with its timer, for 64 * T1 =
# 32 s, and each tmr_start() walks its sorted list of timers: section 3's
# leftovers (about 3 timers a call) would slow this section down. Start
# it on a settled relaisd, as section 3 is.
wait_for 100 0.1 idle
echo "     waiting ${SETTLE_S}s for section 3's transactions to end"
sleep "$SETTLE_S"
free_port PTRUNK
free_range 4 MPC MPC_END
ctl trunk add bench --kind ip --host 127.0.0.1 --port "$PTRUNK" \
	--options-interval 0 --max-calls 1000 \
	--codecs PCMA,PCMU,telephone-event >"$WORKDIR/trunk.out" 2>&1 &&
	ctl outbound add --name bench --prefix 0 --route bench:1:+33 \
		>>"$WORKDIR/trunk.out" 2>&1 ||
	{
		cat "$WORKDIR/trunk.out"
		die "relaisctl cannot add the bench trunk or its rule"
	}

# the carrier: one sipp call per INVITE; it leaves on its own after CALLS
# calls, or is stopped once the caller is done
stats carrier
SIPP_TIMEOUT=240 sipp_quiet_bg carrier "$BENCH_DIR/carrier_answer.xml" \
	-i 127.0.0.1 -p "$PTRUNK" -mi 127.0.0.1 -mp "$MPC" -m "$CALLS" \
	-recv_timeout 30000 "${STATS[@]}"
CARRIER_PID=$SIPP_PID
wait_for 50 0.1 bash -c "[ -n \"\$(ss -Hlnu '( sport = :$PTRUNK )')\" ]"
trunk_state()
{
	ctl --json trunk list 2>/dev/null |
		json_query "[t['state'] for t in j if t['name'] == 'bench']" \
			2>/dev/null
}
trunk_up()
{
	[ "$(trunk_state)" = up ]
}
wait_for 50 0.1 trunk_up ||
	echo "     trunk bench is '$(trunk_state)', not up"

stats trunk
load_start
t0=$(now)
SIPP_TIMEOUT=180 sipp_quiet_run trunk "$BENCH_DIR/uac_setup.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCALL" -s 0142000000 \
	-inf "$WORKDIR/users.csv" -mi 127.0.0.1 -mp "$MPA" \
	-auth_uri "0142000000@127.0.0.1:$RELAIS_SIP_PORT" \
	-r "$CALL_RATE" -l 500 -m "$CALLS" -d 100 -recv_timeout 10000 \
	-timeout 150 "${STATS[@]}"
t1=$(now)
load_stop
gone()
{
	! kill -0 "$1" 2>/dev/null
}
wait_for 150 0.1 gone "$CARRIER_PID"
kill_pid "$CARRIER_PID"
read -r ok ko < <(sipp_counts trunk)
read -r cok cko < <(sipp_counts carrier)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "trunk calls OK / failed (100 ms each)" \
	"${ok:-0} / ${ko:-0} in $el s"
figure "trunk call setups per second" "$(rate "${ok:-0}" "$el")"
load_report
figure "  carrier side: calls OK / failed" "${cok:-0} / ${cko:-0}"
failures trunk
failures carrier
still_up
figure "relaisd VmRSS after the trunk call setups" "$(rss_kb "$PID") KiB"

relais_stop || true

# ---- 5. and 6. the SBC -------------------------------------------------------
# A second relaisd as the SBC (no SIP listener of its own when relaisd
# accepts that), a sipp UAS as the PBX behind it.
FLOOD_S=${BENCH_FLOOD_S:-10}
FLOOD_RATE=${BENCH_FLOOD_RATE:-20000}
LEGIT_CALLS=${BENCH_LEGIT_CALLS:-100}
SBC_CALLS=${BENCH_SBC_CALLS:-1000}
SBC_RATE=${BENCH_SBC_RATE:-200}
SBC_HOLD_MS=${BENCH_SBC_HOLD_MS:-1000}
SBC_PUB=127.0.20.1
PBXS_IP=127.0.40.1
LEGIT_IP=127.0.10.5
FLOOD_IP=127.0.10.66
BENCH_DOM=bench.relais.test

free_port SBC_PORT
free_port SBC_PRIV_PORT
free_port PBXS_PORT
free_port PLEGIT
free_port PFLOOD
free_range 4 MPD MPD_END
free_range 4 MPE MPE_END
free_range $(((SBC_RATE * (SBC_HOLD_MS / 1000 + 2) + 200) * 4)) \
	SBC_RTP_MIN SBC_RTP_MAX || die "no free RTP range for the SBC"
f="$WORKDIR/sbc-check.conf"
printf '%s\n' "sip_udp_listen =" "sip_tcp_listen =" "sip_tls_listen =" \
	"db_path = $WORKDIR/sbc-check.db" "sbc_mode = standard" \
	"sbc_public_interface = $SBC_PUB" "sbc_private_interface = 127.0.30.1" \
	"sbc_pbx = $PBXS_IP" >"$f"
OWN=()
if ! "$RELAISD" --config "$f" --check-config >/dev/null 2>&1; then
	free_port p_own
	OWN=("sip_udp_listen = 127.0.0.1:$p_own")
fi
node_start sbc "sbc_mode = standard" \
	"sbc_public_interface = $SBC_PUB" "sbc_public_port = $SBC_PORT" \
	"sbc_public_transports = tls+udp/tcp" \
	"sbc_private_interface = 127.0.30.1" \
	"sbc_private_port = $SBC_PRIV_PORT" \
	"sbc_private_transports = udp/tcp" \
	"sbc_pbx = $PBXS_IP:$PBXS_PORT" "sbc_pbx_transport = udp" \
	"sbc_rtp_port_min = $SBC_RTP_MIN" "sbc_rtp_port_max = $SBC_RTP_MAX" \
	"${OWN[@]}"
PID=$NODE_PID_sbc
RELAIS_SIP_PORT=$SBC_PORT # load_start/stop: drops at the SBC's socket
scenario_make "$WORKDIR/sbc_uac.xml" "$BENCH_DIR/sbc_uac.xml" \
	TONE="$WORKDIR/tone.al"

SIPP_TIMEOUT=600 sipp_quiet_bg pbxs "$BENCH_DIR/callee_answer.xml" \
	-i "$PBXS_IP" -p "$PBXS_PORT" -mi "$PBXS_IP" -mp "$MPD" -rtp_echo \
	-recv_timeout 60000
PBXS_PID=$SIPP_PID
wait_for 50 0.1 bash -c "[ -n \"\$(ss -Hlnu '( sport = :$PBXS_PORT )')\" ]"

# rt_ms NAME: sipp's mean response time (ResponseTime1, cumulated) of a
# run, in ms
rt_ms()
{
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		{ v = $h["ResponseTime1(C)"] }
		END { n = split(v, a, ":"); if (n < 4) { print "n/a"; exit }
			us = a[4]; while (length(us) < 6) us = us "0"
			ms = (a[1] * 3600 + a[2] * 60 + a[3]) * 1000
			printf "%.1f", ms + us / 1000 }' "$WORKDIR/$1.csv" 2>/dev/null
}

# legit NAME: the legitimate caller's LEGIT_CALLS calls at 10/s, 100 ms
legit()
{
	stats "$1"
	SIPP_TIMEOUT=120 sipp_quiet_run "$1" "$WORKDIR/sbc_uac.xml" \
		"$SBC_PUB:$SBC_PORT" -i "$LEGIT_IP" -p "$PLEGIT" -s 101 \
		-set dom "$BENCH_DOM" -mi "$LEGIT_IP" -mp "$MPE" -r 10 \
		-m "$LEGIT_CALLS" -d 100 -recv_timeout 10000 -timeout 100 \
		"${STATS[@]}"
	read -r ok ko < <(sipp_counts "$1")
}

echo "---- SBC under a flood: $FLOOD_RATE OPTIONS/s for ${FLOOD_S}s from" \
	"$FLOOD_IP, $LEGIT_CALLS legitimate calls"
nctl sbc sbc security set --dos-threshold 500 --dos-window 2 \
	--dos-period 1h >/dev/null 2>&1 &&
	nctl sbc sbc security allow add "$LEGIT_IP" >/dev/null 2>&1 ||
	echo "     relaisctl sbc security set/allow add failed"

legit legit0
figure "legitimate calls OK / failed, no flood" "${ok:-0} / ${ko:-0}"
figure "  call setup time (INVITE -> 200), no flood" "$(rt_ms legit0) ms"
failures legit0

d0=$(sbc_counter sbc dropped_denied)
r0=$(sbc_counter sbc requests)
load_start
SIPP_TIMEOUT=$((FLOOD_S + 60)) sipp_quiet_bg flood \
	"$SRC_DIR/tests/integration/sipp/sbc_options.xml" "$SBC_PUB:$SBC_PORT" \
	-i "$FLOOD_IP" -p "$PFLOOD" -r "$FLOOD_RATE" \
	-m $((FLOOD_RATE * FLOOD_S)) -recv_timeout 500 -timeout "$((FLOOD_S + 30))"
FLOOD_PID=$SIPP_PID
wait_for 50 0.1 sbc_denied sbc "$FLOOD_IP" ||
	echo "     $FLOOD_IP not on the deny-list after 5 s"
legit legit1
sipp_wait "$FLOOD_PID"
load_stop
d1=$(sbc_counter sbc dropped_denied)
r1=$(sbc_counter sbc requests)
el=$(awk -v a="$LOAD_T0" -v b="$LOAD_T1" 'BEGIN { printf "%.2f", b - a }')
figure "legitimate calls OK / failed, flooded" "${ok:-0} / ${ko:-0}"
figure "  call setup time (INVITE -> 200), flooded" "$(rt_ms legit1) ms"
failures legit1
figure "flood: requests seen by the SBC" "$((r1 - r0)) in $el s"
figure "flood: requests dropped per second" "$(rate $((d1 - d0)) "$el")"
load_report

# ---- 6. call setups through the SBC --------------------------------------
echo "---- SBC call setups: $SBC_CALLS calls, target rate $SBC_RATE/s," \
	"RTP ${SBC_HOLD_MS} ms each"
nctl sbc sbc security deny clear >/dev/null 2>&1
nctl sbc sbc security level none >/dev/null 2>&1
stats sbcsetup
load_start
t0=$(now)
SIPP_TIMEOUT=240 sipp_quiet_run sbcsetup "$WORKDIR/sbc_uac.xml" \
	"$SBC_PUB:$SBC_PORT" -i 127.0.10.1 -p "$PLEGIT" -s 101 \
	-set dom "$BENCH_DOM" -mi 127.0.10.1 -mp "$MPE" -r "$SBC_RATE" \
	-l 1000 -m "$SBC_CALLS" -d "$SBC_HOLD_MS" -recv_timeout 10000 \
	-timeout 200 "${STATS[@]}"
t1=$(now)
load_stop
read -r ok ko < <(sipp_counts sbcsetup)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "SBC calls OK / failed (RTP relayed)" "${ok:-0} / ${ko:-0} in $el s"
figure "SBC call setups per second" "$(rate "${ok:-0}" "$el")"
figure "  call setup time (INVITE -> 200)" "$(rt_ms sbcsetup) ms"
load_report
failures sbcsetup
kill_pid "$PBXS_PID"
node_stop sbc

echo
echo "==== relaisd bench summary"
printf '  %s\n' "${SUMMARY[@]}"
