#!/usr/bin/env bash
#
# test_trunk_dns.sh: trunk host names resolved with RFC 3263 against a
# local DNS server (dnsmasq on loopback, relaisd's dns_servers)
#
# The zone: _sip._udp.carrier.test SRV -> sip1.carrier.test (priority 10,
# 127.0.0.2) and sip2.carrier.test (priority 20, 127.0.0.3); carrier.test
# A 127.0.0.4; nothing else under .test exists. Checked:
#  1. a register trunk with SRV (host carrier.test): REGISTER and OPTIONS
#     reach the sipp on the first SRV target, not the second;
#  2. that target stops: the next SRV target gets the OPTIONS (fail-over
#     across targets) and the trunk stays up;
#  3. an A-only trunk (carrier.test, explicit port, no SRV) reaches the A
#     address; without a port the port is written out (carrier.test:5060),
#     so that only A records are used;
#  4. names that do not exist (SRV and A-only, probed and register
#     trunks): event 12293, trunk down with a DNS reason.

. "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || die "dnsmasq not installed (dnsmasq-base)"

TRUNK_USER=btip
TRUNK_PW='Fjord3-Pike-Hx'

free_port PDNS
free_port P1 # sip1.carrier.test
free_port P2 # sip2.carrier.test
free_port P4 # carrier.test A record

dnsmasq --no-daemon --port "$PDNS" --listen-address 127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --local=/test/ \
	--pid-file= --user= --log-queries \
	--srv-host=_sip._udp.carrier.test,sip1.carrier.test,"$P1",10,10 \
	--srv-host=_sip._udp.carrier.test,sip2.carrier.test,"$P2",20,10 \
	--host-record=sip1.carrier.test,127.0.0.2 \
	--host-record=sip2.carrier.test,127.0.0.3 \
	--host-record=carrier.test,127.0.0.4 \
	>"$WORKDIR/dnsmasq.log" 2>&1 </dev/null &
track $!
wait_for 50 0.1 grep -q "started" "$WORKDIR/dnsmasq.log" ||
	die "dnsmasq did not start"

RELAIS_EXTRA_CONF="dns_servers = 127.0.0.1:$PDNS"
relais_start

scenario_make "$WORKDIR/carrier_reg.xml" carrier_reg USER="$TRUNK_USER" \
	PASS="$TRUNK_PW"
export SIPP_TIMEOUT=200
sipp_bg sip1 "$WORKDIR/carrier_reg.xml" -i 127.0.0.2 -p "$P1" -m 100000
SIP1_PID=$SIPP_PID
sipp_bg sip2 "$WORKDIR/carrier_reg.xml" -i 127.0.0.3 -p "$P2" -m 100000
sipp_bg a carrier -i 127.0.0.4 -p "$P4" -m 100000

trunk_field()
{
	ctl --json trunk list |
		json_query "[t['$2'] for t in j if t['name'] == '$1']"
}

trunk_is()
{
	[ "$(trunk_field "$1" state)" = "$2" ]
}

# requests METHOD NAME: how many METHOD requests sipp NAME received
requests()
{
	local n
	n=$(grep -c "^$1 sip:" "$WORKDIR/$2.msg" 2>/dev/null)
	echo "${n:-0}"
}

got()
{
	[ "$(requests "$1" "$2")" -ge "${3:-1}" ]
}

# ---- 1. SRV: the first target ---------------------------------------------
printf '%s\n' "$TRUNK_PW" | ctl trunk add srv --kind register \
	--host carrier.test --srv --user "$TRUNK_USER" --password-stdin \
	--reg-interval 60 --options-interval 5 >"$WORKDIR/add.out" 2>&1 ||
	{
		cat "$WORKDIR/add.out"
		die "relaisctl trunk add srv"
	}

check "SRV trunk registers" wait_for 100 0.2 trunk_is srv up
check "REGISTER reached the first SRV target (sip1)" got REGISTER sip1
check "OPTIONS reach the first SRV target (sip1)" \
	wait_for 100 0.2 got OPTIONS sip1
expect_eq "the second SRV target got nothing" 0 "$(requests '[A-Z]*' sip2)"
check "REGISTER Request-URI is the domain with the transport" \
	grep -q "^REGISTER sip:carrier.test;transport=udp SIP/2.0" \
	"$WORKDIR/sip1.msg"
check "dnsmasq was asked for the SRV record" \
	grep -q "query\[SRV\] _sip._udp.carrier.test" "$WORKDIR/dnsmasq.log"

# ---- 2. fail-over to the next SRV target ----------------------------------
kill_pid "$SIP1_PID"
# the probe in flight to sip1 times out (32 s over UDP), then libre tries
# the next target
check "OPTIONS fail over to the second SRV target (sip2)" \
	wait_for 300 0.2 got OPTIONS sip2
check "the SRV trunk stays up" trunk_is srv up
if grep -qE "trunk srv: up -> down" "$RELAIS_LOG"; then
	fail "the SRV trunk went down although sip2 answers"
else
	pass "no state change while a target answers"
fi

# ---- 3. A records only ----------------------------------------------------
ctl trunk add aonly --kind ip --host carrier.test --port "$P4" \
	--options-interval 5 >/dev/null || die "relaisctl trunk add aonly"
check "A-only trunk up" wait_for 100 0.2 trunk_is aonly up
check "OPTIONS reached the A address 127.0.0.4" got OPTIONS a
check "OPTIONS Request-URI with the explicit port" \
	grep -q "^OPTIONS sip:carrier.test:$P4;transport=udp SIP/2.0" \
	"$WORKDIR/a.msg"

ctl trunk add noport --kind ip --host carrier.test --options-interval 0 \
	>/dev/null || die "relaisctl trunk add noport"
check "A-only trunk without a port: port 5060 written out (no SRV lookup)" \
	grep -qE "trunk noport: ip trunk to carrier.test:5060 over udp" \
	"$RELAIS_LOG"

# ---- 4. names that do not exist ------------------------------------------
ctl trunk add nxsrv --kind ip --host nx.carrier.test --srv \
	--options-interval 5 >/dev/null || die "relaisctl trunk add nxsrv"
printf 'Any-Pass-123\n' | ctl trunk add nxreg --kind register \
	--host nope.carrier.test --port 5999 --user x --password-stdin \
	--options-interval 0 >/dev/null || die "relaisctl trunk add nxreg"

check "event 12293 for nx.carrier.test" \
	wait_for 50 0.2 grep -qE \
	"event 12293 .*trunk nxsrv: no SRV/A record for nx.carrier.test" \
	"$RELAIS_LOG"
check "event 12293 for nope.carrier.test" \
	wait_for 50 0.2 grep -qE \
	"event 12293 .*trunk nxreg: no A record for nope.carrier.test" \
	"$RELAIS_LOG"
check "probed trunk with an unknown name is down" \
	wait_for 100 0.2 trunk_is nxsrv down
expect_eq "its reason names DNS" \
	"DNS: no SRV/A record for nx.carrier.test" \
	"$(trunk_field nxsrv last_error)"
check "register trunk with an unknown name is down" \
	wait_for 100 0.2 trunk_is nxreg down
expect_eq "its reason names DNS" "DNS: no A record for nope.carrier.test" \
	"$(trunk_field nxreg last_error)"
expect_eq "event 12293 once per trunk, not once per attempt" 1 \
	"$(grep -c 'event 12293 .*trunk nxsrv:' "$RELAIS_LOG")"

relais_stop
expect_eq "relaisd stops cleanly" 0 "$?"

finish
