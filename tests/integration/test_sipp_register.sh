#!/usr/bin/env bash
#
# test_sipp_register.sh: the registrar against sipp
#
# Digest registration over UDP and TCP (401, then 200 listing the contact
# with its expiry), wrong password and unknown user never get a 200, 423
# with Min-Expires for a too short Expires, unregistration (Expires: 0)
# empties `relaisctl registrations`.

. "$(dirname "$0")/lib.sh"

PW100='Blue7-Otter-Kx'
PW101='Green4-Heron-Qz'

# registrations of EXT as "count"
reg_count()
{
	ctl --json registrations |
		json_query "len([r for r in j if r['ext'] == '$1'])"
}

relais_start
ext_add 100 "$PW100" || die "relaisctl extension add 100"
ext_add 101 "$PW101" || die "relaisctl extension add 101"
expect_eq "no registration before the first REGISTER" 0 "$(reg_count 100)"

free_port P100
free_port P101
free_port PX

# ---- 1. register 100 over UDP --------------------------------------------
if sipp_register reg100 100 "$PW100" "$P100" 300; then
	pass "REGISTER 100 over UDP: 401 then 200"
else
	fail "REGISTER 100 over UDP: 401 then 200"
	sipp_show reg100
fi
granted=$(sed -n 's/^registered 100 expires=//p' "$WORKDIR/reg100.log" 2>/dev/null)
check "200 lists the contact with expires (got '$granted')" \
	test -n "$granted"
check "granted expiry within 1..300 (got '$granted')" \
	test "${granted:-0}" -ge 1 -a "${granted:-0}" -le 300
expect_eq "relaisctl registrations lists 100" 1 "$(reg_count 100)"
check "the registration names the contact port $P100" \
	bash -c "'$RELAISCTL' --socket '$RELAIS_SOCK' --json registrations |
		grep -q ':$P100'"

# ---- 2. register 101 over TCP --------------------------------------------
SIPP_EXTRA=(-t t1)
if sipp_register reg101tcp 101 "$PW101" "$P101" 600; then
	pass "REGISTER 101 over TCP: 401 then 200"
else
	fail "REGISTER 101 over TCP: 401 then 200"
	sipp_show reg101tcp
fi
SIPP_EXTRA=()
expect_eq "relaisctl registrations lists 101" 1 "$(reg_count 101)"

# ---- 3. wrong password, unknown user: never a 200 ------------------------
if sipp_register badpw 100 'Wrong9-Secret-Zz' "$PX" 300 reg_reject; then
	pass "wrong password refused: $(cut -d" " -f3 "$WORKDIR/badpw.log" 2>/dev/null)"
else
	fail "wrong password refused with 401/403"
	sipp_show badpw
fi
expect_eq "still one registration for 100 after the wrong password" 1 \
	"$(reg_count 100)"

if sipp_register unknown 555 "$PW100" "$PX" 300 reg_reject; then
	pass "unknown user refused: $(cut -d" " -f3 "$WORKDIR/unknown.log" 2>/dev/null)"
else
	fail "unknown user refused with 401/403/404"
	sipp_show unknown
fi
expect_eq "no registration for the unknown user" 0 "$(reg_count 555)"

# ---- 4. 423 Interval Too Brief -------------------------------------------
if sipp_register brief 100 "$PW100" "$PX" 5 reg_423; then
	pass "Expires: 5 gets 423"
else
	fail "Expires: 5 gets 423"
	sipp_show brief
fi
minexp=$(sed -n 's/^min-expires //p' "$WORKDIR/brief.log" 2>/dev/null | tail -n 1)
check "423 carries Min-Expires > 5 (got '$minexp')" \
	test "${minexp:-0}" -gt 5
expect_eq "the too brief REGISTER added no contact" 1 "$(reg_count 100)"

# ---- 5. unregister ---------------------------------------------------------
if sipp_register unreg100 100 "$PW100" "$P100" 0 unreg; then
	pass "unREGISTER 100 (Expires: 0): 200"
else
	fail "unREGISTER 100 (Expires: 0): 200"
	sipp_show unreg100
fi
expect_eq "100 no longer registered" 0 "$(reg_count 100)"
expect_eq "101 still registered" 1 "$(reg_count 101)"

SIPP_EXTRA=(-t t1)
if sipp_register unreg101 101 "$PW101" "$P101" 0 unreg; then
	pass "unREGISTER 101 over TCP: 200"
else
	fail "unREGISTER 101 over TCP: 200"
	sipp_show unreg101
fi
SIPP_EXTRA=()
total=$(ctl --json registrations | json_query "len(j)")
expect_eq "relaisctl registrations is empty" 0 "$total"

check "relaisd still running" relais_alive
finish
