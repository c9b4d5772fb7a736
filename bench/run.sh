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
#
# The 10,000 extensions are written straight into the SQLite database
# (HA1 hashes precomputed) before relaisd starts. Everything runs on
# loopback; the figures are printed, nothing is asserted. Each sipp run is
# bounded, the whole run stays under 10 minutes.
#
# Knobs: BENCH_USERS (10000), BENCH_REG_RATE (5000/s), BENCH_CALLS (2000),
# BENCH_CALL_RATE (500/s), BENCH_CONCURRENT (200), BENCH_HOLD_S (20).

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

# sipp_counts NAME: "successful failed" from a sipp statistics file
sipp_counts()
{
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		{ s = $h["SuccessfulCall(C)"]; f = $h["FailedCall(C)"] }
		END { print s + 0, f + 0 }' "$WORKDIR/$1.csv" 2>/dev/null
}

# failures NAME: the unexpected answers of a sipp run, by status code
failures()
{
	local codes
	codes=$(grep -o "received 'SIP/2.0 [0-9]*" "$WORKDIR/$1.err" \
		2>/dev/null | awk '{ print $3 }' | sort | uniq -c |
		awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
	if [ -n "$codes" ]; then
		figure "  unexpected answers ($1)" "$codes"
	fi
}

# stats NAME: sipp options writing statistics to WORKDIR/NAME.csv
stats()
{
	STATS=(-trace_stat -stf "$WORKDIR/$1.csv" -fd 1)
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
t0=$(now)
SIPP_TIMEOUT=240 sipp_run reg reg_ok 127.0.0.1:"$RELAIS_SIP_PORT" \
	-i 127.0.0.1 -p "$PREG" -inf "$WORKDIR/users.csv" -set expires 3600 \
	-r "$REG_RATE" -l 1000 -m "$USERS" -recv_timeout 10000 \
	-timeout 200 "${STATS[@]}"
t1=$(now)
read -r ok ko < <(sipp_counts reg)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "registrations OK / failed" "${ok:-0} / ${ko:-0} in $el s"
figure "registrations per second" "$(rate "${ok:-0}" "$el")"
failures reg
figure "relaisd VmRSS after registrations" "$(rss_kb "$PID") KiB"

# Every extension's contact is 127.0.0.1:PREG: one sipp UAS answers there
# for all of them, echoing RTP.
SIPP_TIMEOUT=480 sipp_bg uas uas_answer -i 127.0.0.1 -p "$PREG" -mi 127.0.0.1 \
	-mp "$MPB" -rtp_echo -recv_timeout 60000
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

rss_before=$(rss_kb "$PID")
stats hold
SIPP_TIMEOUT=$((HOLD_S + 120)) sipp_bg hold "$WORKDIR/uac_hold.xml" \
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
t0=$(now)
SIPP_TIMEOUT=180 sipp_run setup "$BENCH_DIR/uac_setup.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCALL" -s $((FIRST + 1)) \
	-inf "$WORKDIR/users.csv" -mi 127.0.0.1 -mp "$MPA" \
	-auth_uri "$((FIRST + 1))@127.0.0.1:$RELAIS_SIP_PORT" \
	-r "$CALL_RATE" -l 500 -m "$CALLS" -d 100 -recv_timeout 10000 \
	-timeout 150 "${STATS[@]}"
t1=$(now)
read -r ok ko < <(sipp_counts setup)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
figure "calls OK / failed (100 ms each)" "${ok:-0} / ${ko:-0} in $el s"
figure "call setups per second" "$(rate "${ok:-0}" "$el")"
failures setup
figure "relaisd VmRSS after the call setups" "$(rss_kb "$PID") KiB"

kill_pid "$UAS_PID"
relais_stop || true

echo
echo "==== relaisd bench summary"
printf '  %s\n' "${SUMMARY[@]}"
