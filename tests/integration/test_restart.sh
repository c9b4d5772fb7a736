#!/usr/bin/env bash
#
# test_restart.sh: what relaisd keeps across a stop and a start
#
# Registrations and call records live in the database: after SIGTERM and a
# new start on the same database, `relaisctl registrations` and `cdr`
# still list them and a call reaches the contact registered before the
# restart. SIGTERM during a call ends it with a BYE to both sides, and
# relaisd exits with status 0.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"

free_port P100
free_port P101
free_port PCALLER
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END
users_csv "$WORKDIR/caller.csv" 100 "$PW100"

sipp_register reg100 100 "$PW100" "$P100" 3600 ||
	{ sipp_show reg100; die "100 could not register"; }
sipp_register reg101 101 "$PW101" "$P101" 3600 ||
	{ sipp_show reg101; die "101 could not register"; }
pass "100 and 101 registered"

uas_ready()
{
	[ -n "$(ss -Hlnu "( sport = :$P101 )")" ]
}

# call NAME CALLER_SCENARIO CALLEE_SCENARIO [CALLER ARGS]: start both
call_start()
{
	local name=$1 cs=$2 us=$3
	shift 3
	sipp_bg "${name}_b" "$us" -i 127.0.0.1 -p "$P101" -m 1 \
		-mi 127.0.0.1 -mp "$MPB" -rtp_echo
	CALLEE_PID=$SIPP_PID
	wait_for 50 0.1 uas_ready || fail "$name: sipp UAS not listening"
	sipp_bg "$name" "$cs" 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
		-p "$PCALLER" -m 1 -s 101 -inf "$WORKDIR/caller.csv" -mi 127.0.0.1 \
		-mp "$MPA" -cid_str "$name-%u-%p@%s" -recv_timeout 15000 \
		-auth_uri "101@127.0.0.1:$RELAIS_SIP_PORT" "$@"
	CALLER_PID=$SIPP_PID
}

call_check()
{
	local name=$1 a b
	sipp_wait "$CALLER_PID"
	a=$?
	sipp_wait "$CALLEE_PID"
	b=$?
	if [ "$a" -eq 0 ] && [ "$b" -eq 0 ]; then
		pass "$name: both sipp scenarios completed"
	else
		fail "$name: sipp scenarios"
		sipp_show "$name"
		sipp_show "${name}_b"
	fi
}

reg_exts()
{
	ctl --json registrations |
		json_query "sorted(set(r['ext'] for r in j))" | tr '\n' ' '
}

cdr_has()
{
	ctl --json cdr | json_query "len([r for r in j
		if r['callid'].startswith('$1-')])"
}

active_calls()
{
	ctl --json calls --active | json_query "len(j)"
}

has_active_call()
{
	[ "$(active_calls)" -ge 1 ] 2>/dev/null
}

# ---- a finished call, then a call in progress at SIGTERM -------------------
call_start before uac_call uas_answer -d 500
call_check before
expect_eq "cdr has the first call" 1 "$(cdr_has before)"

call_start held uac_wait_bye uas_answer
if wait_for 100 0.1 has_active_call; then
	pass "call in progress before SIGTERM"
else
	fail "call in progress before SIGTERM"
fi

relais_stop TERM
rc=$?
expect_eq "relaisd exits 0 on SIGTERM" 0 "$rc"
call_check held
check "relaisd logged its stop" grep -q "stopped" "$RELAIS_LOG"

# ---- start again on the same database --------------------------------------
relais_start
expect_eq "registrations survive the restart" "100 101 " "$(reg_exts)"
expect_eq "the first call's record survives" 1 "$(cdr_has before)"
expect_eq "the call ended by SIGTERM has a record" 1 "$(cdr_has held)"
check "extensions survive the restart" bash -c \
	"'$RELAISCTL' --socket '$RELAIS_SOCK' extension list | grep -q 101"

# the contact registered before the restart is reachable
call_start after uac_call uas_answer -d 500
call_check after
expect_eq "cdr has the call made after the restart" 1 "$(cdr_has after)"

check "relaisd still running" relais_alive
finish
