#!/usr/bin/env bash
#
# test_trunk_calls.sh: calls through carrier trunks, sipp as the carrier
#
# Two IP trunks on loopback: "orange" (nominal, probed with OPTIONS every
# 5 s, at most 1 call, P-Asserted-Identity on) and "backup" (no probes).
# Checked:
#  1. outbound rule prefix 0, strip 1, prepend +33: extension 100 dials
#     0142000000 and the carrier's Request-URI is sip:+33142000000@...,
#     with the trunk's caller ID in From and P-Asserted-Identity;
#  1b. an emergency number (112) that no rule covers still goes out
#     through a trunk, with event 4099;
#  2. the trunk's call limit: a second call while one is up gets 503;
#  3. inbound DID 2304024 reaches extension 101 whether the carrier sends
#     +448452304024, 08452304024, 0448452304024 or 2304024 (SPEC §3), and
#     2304025 is refused with 404;
#  4. a DID forwarded to an external number: the INVITE toward the carrier
#     carries Diversion with the DID;
#  5. the nominal carrier stops answering OPTIONS: the trunk goes down
#     (event 4100), calls take the backup route (event 12289); it answers
#     again: the trunk comes back and calls use it (fail-back).

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"

free_port PCAR1   # the nominal carrier (sipp)
free_port PCAR2   # the backup carrier
free_port P101    # extension 101's phone
free_port PCALLER # extension 100's phone
free_range 4 MPA MPA_END
free_range 4 MPB MPB_END
free_range 4 MPC MPC_END
users_csv "$WORKDIR/caller.csv" 100 "$PW100"

# ---- trunks and rules --------------------------------------------------
ctl trunk add orange --profile orange-btip --kind ip --host 127.0.0.1 \
	--port "$PCAR1" --caller-id +33142000099 --pai yes \
	--options-interval 5 --max-calls 1 >"$WORKDIR/trunk1.out" 2>&1 ||
	{
		cat "$WORKDIR/trunk1.out"
		die "relaisctl trunk add orange"
	}
ctl trunk add backup --kind ip --host 127.0.0.1 --port "$PCAR2" \
	--codecs PCMA,PCMU,telephone-event --options-interval 0 \
	--dids "+448452304024,08452304024,0448452304024,2304024,2304025,044230409*" \
	--caller-id +33142000098 >/dev/null ||
	die "relaisctl trunk add backup"
ctl outbound add --name international --prefix 00 \
	--route orange >/dev/null || die "relaisctl outbound add international"
ctl outbound add --name national --prefix 0 --route orange:1:+33 \
	--route backup:1:+33 >/dev/null || die "relaisctl outbound add national"
ctl inbound add --name main --did 2304024 --open extension:101 \
	>/dev/null || die "relaisctl inbound add main"
ctl inbound add --name forward --did 2304099 --open external:0611223344 \
	>/dev/null || die "relaisctl inbound add forward"

trunk_state()
{
	ctl --json trunk list |
		json_query "[t['state'] for t in j if t['name'] == '$1']"
}

trunk_is()
{
	[ "$(trunk_state "$1")" = "$2" ]
}

# carrier NAME PORT MEDIA: sipp as a carrier SBC in the background
carrier()
{
	sipp_bg "$1" carrier -i 127.0.0.1 -p "$2" -m 1000 -mi 127.0.0.1 \
		-mp "$3" -rtp_echo
	CARRIER_PID=$SIPP_PID
}

# caller NAME SCENARIO NUMBER [ARGS]: sipp UAC as extension 100
caller()
{
	local name=$1 scen=$2 number=$3
	shift 3
	sipp_bg "$name" "$scen" 127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 \
		-p "$PCALLER" -m 1 -s "$number" -inf "$WORKDIR/caller.csv" \
		-mi 127.0.0.1 -mp "$MPA" -cid_str "$name-%u-%p@%s" \
		-auth_uri "$number@127.0.0.1:$RELAIS_SIP_PORT" \
		-recv_timeout 20000 "$@"
	CALLER_PID=$SIPP_PID
}

finished()
{
	if sipp_wait "$2"; then
		pass "$1: sipp scenario completed"
	else
		fail "$1: sipp scenario failed"
		sipp_show "$1"
	fi
}

# invite_field LOG FIELD: FIELD of the last carrier-invite line of a log
invite_field()
{
	sed -n "s/^carrier-invite .*$2=|\([^|]*\)|.*/\1/p" \
		"$WORKDIR/$1.log" 2>/dev/null | tail -n 1
}

invites()
{
	grep -c "^carrier-invite" "$WORKDIR/$1.log" 2>/dev/null || echo 0
}

carrier orange "$PCAR1" "$MPB"
ORANGE_PID=$CARRIER_PID
check "trunk orange is up (answers OPTIONS)" wait_for 150 0.2 trunk_is orange up

# ---- 1. outbound: strip 1, prepend +33, caller ID ----------------------
caller out1 uac_call 0142000000 -d 1500
finished out1 "$CALLER_PID"
ruri=$(invite_field orange ruri)
case "$ruri" in
"INVITE sip:+33142000000@"*) pass "carrier got $ruri" ;;
*) fail "carrier's Request-URI is '$ruri', not sip:+33142000000@..." ;;
esac
pai=$(invite_field orange pai)
case "$pai" in
*"<sip:+33142000099@"*) pass "P-Asserted-Identity: $pai" ;;
*) fail "P-Asserted-Identity is '$pai'" ;;
esac
from=$(invite_field orange from)
case "$from" in
*"sip:+33142000099@"*) pass "From carries the trunk's caller ID" ;;
*) fail "From is '$from'" ;;
esac

# ---- 1b. emergency number: no rule has prefix 1, it still goes out -----
caller sos uac_call 112 -d 500
finished sos "$CALLER_PID"
case "$(invite_field orange ruri)" in
"INVITE sip:112@"*) pass "112 reached the carrier unchanged" ;;
*) fail "112 did not reach the carrier: '$(invite_field orange ruri)'" ;;
esac
check "event 4099 (emergency number dialled) logged" \
	grep -q "event 4099 .*100 dialled 112" "$RELAIS_LOG"

# ---- 2. call limit: 1 call on orange, the international rule has no
#         other route --------------------------------------------------
caller limit1 uac_call 00441234567 -d 6000
active()
{
	[ "$(ctl --json calls --active | json_query 'len(j)')" -ge 1 ] \
		2>/dev/null
}
wait_for 100 0.1 active || fail "first call on orange not up"
scenario_make "$WORKDIR/uac_503.xml" uac_reject CODE=503
free_port PCALLER2
sipp_run limit2 "$WORKDIR/uac_503.xml" 127.0.0.1:"$RELAIS_SIP_PORT" \
	-i 127.0.0.1 -p "$PCALLER2" -m 1 -s 00441234568 \
	-inf "$WORKDIR/caller.csv" -mi 127.0.0.1 -mp "$MPC" \
	-auth_uri "00441234568@127.0.0.1:$RELAIS_SIP_PORT" -recv_timeout 10000
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "second call over the limit of orange gets 503"
else
	fail "second call over the limit of orange did not get 503"
	sipp_show limit2
fi
check "the call-limit refusal is logged" \
	grep -q "trunk orange skipped (call limit reached)" "$RELAIS_LOG"
finished limit1 "$CALLER_PID"

# ---- 3. inbound DID matched from its last digits -----------------------
if sipp_register reg101 101 "$PW101" "$P101" 600; then
	pass "101 registered"
else
	sipp_show reg101
	die "101 could not register"
fi

uas_ready()
{
	[ -n "$(ss -Hlnu "( sport = :$P101 )")" ]
}

for did in +448452304024 08452304024 0448452304024 2304024; do
	sipp_bg "in-$did-b" uas_answer -i 127.0.0.1 -p "$P101" -m 1 \
		-mi 127.0.0.1 -mp "$MPB_END" -rtp_echo
	callee_pid=$SIPP_PID
	wait_for 50 0.1 uas_ready || fail "101's UAS not listening"
	sipp_bg "in-$did" carrier_call 127.0.0.1:"$RELAIS_SIP_PORT" \
		-i 127.0.0.1 -p "$PCAR2" -m 1 -s "$did" -mi 127.0.0.1 \
		-mp "$MPC" -d 500 -recv_timeout 10000
	caller_pid=$SIPP_PID
	if sipp_wait "$caller_pid" && sipp_wait "$callee_pid"; then
		pass "DID $did reached extension 101"
	else
		fail "DID $did did not reach extension 101"
		sipp_show "in-$did"
		sipp_show "in-$did-b"
	fi
done

scenario_make "$WORKDIR/carrier_404.xml" carrier_reject CODE=404
if sipp_run in-notdid "$WORKDIR/carrier_404.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCAR2" -m 1 \
	-s 0999999999 -mi 127.0.0.1 -mp "$MPC" -recv_timeout 10000; then
	pass "a number outside the trunk's DID list: 404"
else
	fail "a number outside the trunk's DID list was not refused"
	sipp_show in-notdid
fi
check "the refusal names the DID list" \
	grep -q "trunk backup: 0999999999 is not one of its DIDs" "$RELAIS_LOG"

if sipp_run in-unknown "$WORKDIR/carrier_404.xml" \
	127.0.0.1:"$RELAIS_SIP_PORT" -i 127.0.0.1 -p "$PCAR2" -m 1 \
	-s 2304025 -mi 127.0.0.1 -mp "$MPC" -recv_timeout 10000; then
	pass "DID 2304025 matches no rule: 404"
else
	fail "DID 2304025 was not refused with 404"
	sipp_show in-unknown
fi

# ---- 4. forwarded to an external number: Diversion ---------------------
before=$(invites orange)
if sipp_run in-forward carrier_call 127.0.0.1:"$RELAIS_SIP_PORT" \
	-i 127.0.0.1 -p "$PCAR2" -m 1 -s 0442304099 -mi 127.0.0.1 \
	-mp "$MPC" -d 500 -recv_timeout 10000; then
	pass "DID 2304099 forwarded to 0611223344 through orange"
else
	fail "forwarded call failed"
	sipp_show in-forward
fi
check "orange got the forwarded INVITE" test "$(invites orange)" -gt "$before"
expect_eq "forwarded Request-URI" "INVITE sip:+33611223344@127.0.0.1:$PCAR1" \
	"$(invite_field orange ruri | sed 's/;.*//')"
div=$(invite_field orange div)
case "$div" in
*"<sip:0442304099@"*"reason=unconditional"*) pass "Diversion: $div" ;;
*) fail "Diversion is '$div'" ;;
esac

# ---- 5. failover to the backup and fail-back ---------------------------
kill_pid "$ORANGE_PID"
check "orange goes down when OPTIONS stay unanswered" \
	wait_for 450 0.2 trunk_is orange down
check "event 4100 logged for orange going down" \
	grep -qE "event 4100 .*orange.*down" "$RELAIS_LOG"

carrier backup "$PCAR2" "$MPB"
BACKUP_PID=$CARRIER_PID
caller fo uac_call 0142000000 -d 500
finished fo "$CALLER_PID"
expect_eq "the backup carrier got the call" 1 "$(invites backup)"
expect_eq "backup Request-URI" "INVITE sip:+33142000000@127.0.0.1:$PCAR2" \
	"$(invite_field backup ruri | sed 's/;.*//')"
check "event 12289 (backup route used) logged" \
	grep -q "event 12289 " "$RELAIS_LOG"

sipp_bg_again orange2 carrier -i 127.0.0.1 -p "$PCAR1" -m 1000 \
	-mi 127.0.0.1 -mp "$MPC_END" -rtp_echo ||
	fail "the nominal carrier cannot listen on $PCAR1 again"
check "orange comes back up when it answers again" \
	wait_for 150 0.2 trunk_is orange up
caller fb uac_call 0142000000 -d 500
finished fb "$CALLER_PID"
expect_eq "after fail-back the nominal carrier gets the call" 1 \
	"$(invites orange2)"
expect_eq "the backup got no more calls" 1 "$(invites backup)"
kill_pid "$BACKUP_PID"

# ---- call records ------------------------------------------------------
ctl --json cdr >"$WORKDIR/cdr.json" || fail "relaisctl --json cdr"
n=$(json_query "len([r for r in j if r['callee'] == '0142000000' and \
r['disposition'] == 'ANSWERED'])" <"$WORKDIR/cdr.json")
expect_eq "answered outbound calls to 0142000000 in the call history" 3 "$n"

finish
