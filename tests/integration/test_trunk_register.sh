#!/usr/bin/env bash
#
# test_trunk_register.sh: register trunks and OPTIONS probes, sipp as the
# carrier
#
# Checked:
#  1. a register trunk (reg_interval 60): the first REGISTER has no
#     credentials, the carrier's 401 is answered with an Authorization
#     header naming the trunk's user with a digest response, the 200 makes
#     the trunk up and registered (event 4100); the password never shows
#     in relaisd's log;
#  2. the re-REGISTER comes by itself, not before 30 s and within the
#     interval + 10 s (libre refreshes at 90 % of the granted expiry);
#  3. a carrier answering 403: the trunk is down, `relaisctl trunk list`
#     says why ("REGISTER refused: 403 Forbidden"), event 12294 is logged;
#  4. an IP trunk probed every 5 s: up while the carrier answers OPTIONS;
#     the carrier stops: down after two unanswered probes (event 4100
#     "up -> down (no answer to OPTIONS)"); it answers again: up;
#  5. removing the register trunk un-REGISTERs it (Expires 0, Contact
#     expires=0), and relaisd stops cleanly.

. "$(dirname "$0")/lib.sh"

TRUNK_USER=trunkuser
TRUNK_PW='Sea7-Lynx-Quartz'

relais_start

free_port PREG   # carrier registrar answering 401 then 200
free_port PFAIL  # carrier registrar answering 403
free_port PPROBE # carrier SBC answering OPTIONS

scenario_make "$WORKDIR/carrier_reg.xml" carrier_reg USER="$TRUNK_USER" \
	PASS="$TRUNK_PW"
scenario_make "$WORKDIR/carrier_403.xml" carrier_reg_fail CODE=403 \
	REASON=Forbidden

export SIPP_TIMEOUT=240
sipp_bg reg "$WORKDIR/carrier_reg.xml" -i 127.0.0.1 -p "$PREG" -m 100000
sipp_bg fail "$WORKDIR/carrier_403.xml" -i 127.0.0.1 -p "$PFAIL" \
	-m 100000
sipp_bg probe carrier -i 127.0.0.1 -p "$PPROBE" -m 100000
PROBE_PID=$SIPP_PID

trunk_field()
{
	ctl --json trunk list |
		json_query "[t['$2'] for t in j if t['name'] == '$1']"
}

trunk_is()
{
	[ "$(trunk_field "$1" state)" = "$2" ]
}

# received_times FILE METHOD: reception time (s since the epoch, with
# fraction) of each request METHOD in a sipp -trace_msg file
received_times()
{
	"$PYTHON" - "$1" "$2" <<'PYEOF'
import datetime, sys
stamp = None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("-------") and line.count("-") > 20:
        parts = line.split()
        if len(parts) >= 3:
            stamp = datetime.datetime.strptime(parts[1] + " " + parts[2],
                                               "%Y-%m-%d %H:%M:%S.%f")
    elif line.startswith(sys.argv[2] + " sip:") and stamp:
        print("%.3f" % stamp.timestamp())
PYEOF
}

register_count()
{
	received_times "$WORKDIR/reg.msg" REGISTER | wc -l
}

reregistered()
{
	[ "$(register_count)" -ge 3 ]
}

# ---- 1. registration with digest authentication --------------------------
printf '%s\n' "$TRUNK_PW" | ctl trunk add carrier --kind register \
	--host 127.0.0.1 --port "$PREG" --user "$TRUNK_USER" \
	--password-stdin --reg-interval 60 --options-interval 0 \
	>"$WORKDIR/add_carrier.out" 2>&1 ||
	{
		cat "$WORKDIR/add_carrier.out"
		die "relaisctl trunk add carrier"
	}

check "register trunk comes up" wait_for 100 0.2 trunk_is carrier up
expect_eq "trunk list says registered" True \
	"$(trunk_field carrier registered)"
check "event 4100 for the registration" \
	grep -qE "event 4100 .*trunk carrier: unknown -> up \(registered\)" \
	"$RELAIS_LOG"

first=$(grep -m1 "carrier-register" "$WORKDIR/reg.log")
case "$first" in
*"auth={}"*) pass "first REGISTER carries no credentials" ;;
*) fail "first REGISTER: $first" ;;
esac
check "401 answered: Authorization with the trunk's user and a response" \
	grep -qE "carrier-register auth=\{Authorization: Digest .*username=\"$TRUNK_USER\".*response=\"[0-9a-f]{32}\".*\} valid=\{true\}" \
	"$WORKDIR/reg.log"
check "Contact user is the trunk's user" \
	grep -qE "^Contact: <sip:$TRUNK_USER@127\.0\.0\.1:$RELAIS_SIP_PORT>;expires=60" \
	"$WORKDIR/reg.msg"
if grep -qF "$TRUNK_PW" "$RELAIS_LOG"; then
	fail "the trunk password shows in relaisd's log"
else
	pass "the trunk password stays out of the log"
fi
reg_ok_at=$(received_times "$WORKDIR/reg.msg" REGISTER | sed -n 2p)

# ---- 3. a carrier that refuses the registration --------------------------
printf 'Wrong-Pass-1\n' | ctl trunk add refused --kind register \
	--host 127.0.0.1 --port "$PFAIL" --user refused --password-stdin \
	--reg-interval 60 --options-interval 0 >/dev/null ||
	die "relaisctl trunk add refused"
check "refused trunk is down" wait_for 100 0.2 trunk_is refused down
check "trunk list shows why: 403 Forbidden" \
	bash -c "'$RELAISCTL' --socket '$RELAIS_SOCK' trunk list |
		grep -qE '^refused .*REGISTER refused: 403 Forbidden'"
check "event 12294 for the carrier's 403" \
	grep -qE "event 12294 .*trunk refused: REGISTER answered 403" \
	"$RELAIS_LOG"
check "event 4100 for the refused trunk going down" \
	grep -qE "event 4100 .*trunk refused: unknown -> down \(REGISTER refused: 403" \
	"$RELAIS_LOG"

# ---- 4. OPTIONS probes: down when unanswered, up again ---------------------
ctl trunk add probed --kind ip --host 127.0.0.1 --port "$PPROBE" \
	--options-interval 5 >/dev/null || die "relaisctl trunk add probed"
check "probed trunk up (answers OPTIONS)" \
	wait_for 100 0.2 trunk_is probed up
check "event 4100: probed unknown -> up" \
	grep -qE "event 4100 .*trunk probed: unknown -> up \(answers OPTIONS\)" \
	"$RELAIS_LOG"

kill_pid "$PROBE_PID"
# two probes time out (libre: 32 s each over UDP) 5 s apart
check "probed trunk down when OPTIONS stay unanswered" \
	wait_for 500 0.2 trunk_is probed down
check "event 4100: probed up -> down (no answer to OPTIONS)" \
	grep -qE "event 4100 .*trunk probed: up -> down \(no answer to OPTIONS\)" \
	"$RELAIS_LOG"
expect_eq "trunk list shows why" "no answer to OPTIONS" \
	"$(trunk_field probed last_error)"

sipp_bg_again probe2 carrier -i 127.0.0.1 -p "$PPROBE" -m 100000 ||
	fail "the carrier cannot listen on $PPROBE again"
check "probed trunk up again when the carrier answers" \
	wait_for 150 0.2 trunk_is probed up
check "event 4100: probed down -> up" \
	grep -qE "event 4100 .*trunk probed: down -> up \(answers OPTIONS\)" \
	"$RELAIS_LOG"

# ---- 2. re-registration timing --------------------------------------------
# registered at reg_ok_at; the refresh is due at 90 % of 60 s
wait_for 400 0.2 reregistered ||
	fail "no re-REGISTER within the test's bound"
rereg_at=$(received_times "$WORKDIR/reg.msg" REGISTER | sed -n 3p)
if [ -n "$reg_ok_at" ] && [ -n "$rereg_at" ]; then
	gap=$("$PYTHON" -c "print(int($rereg_at - $reg_ok_at))")
	echo "     re-REGISTER $gap s after the registration"
	check "re-REGISTER not before 30 s" test "$gap" -ge 30
	check "re-REGISTER within the interval + 10 s" test "$gap" -le 70
fi
check "re-registration keeps the trunk up" trunk_is carrier up

# ---- 5. removal un-REGISTERs ------------------------------------------------
ctl trunk remove carrier >/dev/null || fail "relaisctl trunk remove carrier"
check "un-REGISTER sent on removal (Contact expires=0)" \
	wait_for 50 0.2 grep -qE "^Contact: <sip:$TRUNK_USER@[^>]*>;expires=0" \
	"$WORKDIR/reg.msg"

relais_stop
expect_eq "relaisd stops cleanly" 0 "$?"

finish
