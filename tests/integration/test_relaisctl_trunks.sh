#!/usr/bin/env bash
# relaisctl against a running relaisd: trunks (the Orange profile), outbound
# and inbound rules, office hours, holidays, and the certificate made on the
# server (CSR), signed by a test CA and installed, with its exit codes
# (0 ok, 1 refused, 2 usage).
. "$(dirname "$0")/lib.sh"

TRUNK_PW='Trunk-Secret-42'

# expect_rc DESCRIPTION CODE ARGS...: relaisctl ARGS exits with CODE; its
# stdout and stderr are left in $WORKDIR/out and $WORKDIR/err
expect_rc()
{
	local what=$1 code=$2
	shift 2
	ctl "$@" >"$WORKDIR/out" 2>"$WORKDIR/err" </dev/null
	expect_eq "$what" "$code" $?
}

# has DESCRIPTION REGEX FILE: FILE has a line matching REGEX
has()
{
	check "$1" grep -qE -- "$2" "$3"
}

relais_start

# a port nobody answers on: the trunks may register in vain
free_port CARRIER_PORT || die "no free port"

# ---- trunk add, show ---------------------------------------------------------
printf '%s\n' "$TRUNK_PW" | ctl trunk add orange --profile orange-btip \
	--host 127.0.0.1 --port "$CARRIER_PORT" --user 0233456789 \
	--password-stdin --number 0233456789 --dids '0233456*' \
	>"$WORKDIR/out" 2>"$WORKDIR/err"
expect_eq "trunk add orange (orange-btip) exits 0" 0 $?
has "it says added" "^trunk orange added" "$WORKDIR/out"

expect_rc "trunk show exits 0" 0 trunk show orange
has "the profile is shown" "^profile: +orange-btip$" "$WORKDIR/out"
has "orange-btip: UDP" "^transport: +udp$" "$WORKDIR/out"
has "orange-btip: G.722, then PCMA, then G.729" \
	"^codecs: +G722,PCMA,G729,telephone-event$" "$WORKDIR/out"
has "orange-btip: registers every 180 s" "^reg interval: +180 s$" "$WORKDIR/out"
has "orange-btip: P-Asserted-Identity" "^pai: +yes$" "$WORKDIR/out"
has "orange-btip: SRTP disabled" "^srtp: +disabled$" "$WORKDIR/out"
has "the given options follow the profile" "^dids: +0233456\*$" "$WORKDIR/out"
has "the port given is kept" "^port: +$CARRIER_PORT$" "$WORKDIR/out"
has "the password is only said to be set" "^password: +set$" "$WORKDIR/out"
has "the live state is shown" "^state: +[a-z]+" "$WORKDIR/out"
check "no password in trunk show" \
	bash -c '! grep -qF -- "$0" "$1"' "$TRUNK_PW" "$WORKDIR/out"

out=$(ctl --json trunk show orange)
expect_eq "JSON: password_set" True "$(json_query 'j["password_set"]' <<<"$out")"
expect_eq "JSON: no password member" False \
	"$(json_query '"password" in j' <<<"$out")"
out=$(ctl --json trunk list)
check "no password in trunk list --json" \
	bash -c '! grep -qF -- "$0" <<<"$1"' "$TRUNK_PW" "$out"

# the other profile: TLS, SRV, SRTP enforced, PCMA first
printf '%s\n' "$TRUNK_PW" | ctl --json trunk add internet \
	--profile orange-btipoi --host sip.example.com --user 0233456700 \
	--password-stdin --outbound no >"$WORKDIR/out" 2>"$WORKDIR/err"
expect_eq "trunk add internet (orange-btipoi) exits 0" 0 $?
expect_eq "orange-btipoi: TLS, SRV, SRTP enforced, PCMA first" \
	"tls True enforced PCMA" \
	"$(json_query '"%s %s %s %s" % (j["transport"], j["srv"], j["srtp"],
		j["codecs"].split(",")[0])' <"$WORKDIR/out")"
expect_eq "--outbound no is kept" False \
	"$(json_query 'j["outbound"]' <"$WORKDIR/out")"

# ---- refusals ----------------------------------------------------------------
expect_rc "a bad transport is refused with 1" 1 \
	trunk add bad --kind ip --host 127.0.0.1 --transport sctp
has "it says why" "^relaisctl: transport: 'sctp' is not one of udp, tcp, tls" \
	"$WORKDIR/err"
expect_rc "a register trunk without a password is refused with 1" 1 \
	trunk add nopw --host 127.0.0.1 --user 0233456789
has "it says a password is needed" "password: required" "$WORKDIR/err"
expect_rc "an unknown profile is refused with 1" 1 \
	trunk add x --profile sfr --kind ip --host 127.0.0.1
has "it lists the profiles" "orange-btip, orange-btipoi" "$WORKDIR/err"
expect_rc "a duplicate trunk is refused with 1" 1 \
	trunk add orange --kind ip --host 127.0.0.1
has "it says it exists" "trunk orange already exists" "$WORKDIR/err"
expect_rc "--inbound maybe is a usage error" 2 \
	trunk add x --kind ip --host 127.0.0.1 --inbound maybe
expect_rc "--port x is a usage error" 2 trunk add x --kind ip --host h --port x
expect_rc "trunk add without --host is a usage error" 2 trunk add x --kind ip
expect_rc "a trunk name with a slash is a usage error" 2 \
	trunk add a/b --kind ip --host 127.0.0.1
expect_rc "--profile is not for trunk set" 2 trunk set orange --profile x
expect_rc "trunk set without a setting is a usage error" 2 trunk set orange
expect_rc "trunk show of an unknown trunk exits 1" 1 trunk show nope
has "it says it does not exist" "trunk nope does not exist" "$WORKDIR/err"

# ---- trunk set, list ---------------------------------------------------------
expect_rc "trunk set exits 0" 0 trunk set orange --max-calls 4 --srtp allowed
out=$(ctl trunk show orange)
check "max calls changed" grep -qE "^max calls: +4$" <<<"$out"
check "srtp changed" grep -qE "^srtp: +allowed$" <<<"$out"
check "the rest is unchanged" \
	grep -qE "^codecs: +G722,PCMA,G729,telephone-event$" <<<"$out"
check "the password is still set" grep -qE "^password: +set$" <<<"$out"

printf 'Trunk-Secret-43\n' | ctl trunk set orange --password-stdin --no-srv \
	>"$WORKDIR/out" 2>"$WORKDIR/err"
expect_eq "trunk set --password-stdin exits 0" 0 $?
has "it says changed" "^trunk orange changed" "$WORKDIR/out"
check "the new password is set, SRV off" bash -c \
	'"$0" --socket "$1" trunk show orange | grep -qE "^srv: +no$"' \
	"$RELAISCTL" "$RELAIS_SOCK"
expect_rc "--srv with --no-srv is a usage error" 2 \
	trunk set orange --srv --no-srv

expect_rc "trunk add backup (IP trunk) exits 0" 0 \
	trunk add backup --kind ip --host 127.0.0.2 --port "$CARRIER_PORT"

expect_rc "trunk list exits 0" 0 trunk list
has "trunk list has its heading" \
	"^NAME +KIND +HOST +TRANSPORT +STATE +CALLS/MAX +REGISTERED +LAST-ERROR$" \
	"$WORKDIR/out"
has "orange is listed with its calls and limit" \
	"^orange +register +127\.0\.0\.1:$CARRIER_PORT +udp +[a-z]+ +0/4 +(yes|no) " \
	"$WORKDIR/out"
has "an IP trunk has no registration" "^backup +ip +127\.0\.0\.2:$CARRIER_PORT .* - " \
	"$WORKDIR/out"
expect_eq "trunk list --json has 3 trunks" "backup internet orange" \
	"$(ctl --json trunk list | json_query '" ".join(t["name"] for t in j)')"

# ---- outbound rules ----------------------------------------------------------
expect_rc "outbound add (prefix 0, strip 1, +33) exits 0" 0 \
	outbound add --name France --prefix 0 --route orange:1:+33 \
	--route backup:1:+33
has "it says where it went" "^outbound rule [0-9]+ \(France\) added at position 1$" \
	"$WORKDIR/out"
expect_rc "outbound add at position 1 exits 0" 0 \
	outbound add --name Premium --prefix 089 --position 1 --route blocked
expect_rc "outbound add with a length exits 0" 0 \
	outbound add --name Short --callers 100-120 --min-len 3 --max-len 4 \
	--route backup
expect_rc "outbound list exits 0" 0 outbound list
has "outbound list has its heading" \
	"^POS +ID +NAME +PREFIX +CALLERS +LEN +ROUTES$" "$WORKDIR/out"
has "the blocked rule comes first" "^1 +[0-9]+ +Premium +089 +all +any +blocked$" \
	"$WORKDIR/out"
has "the France rule shows strip and prepend" \
	"^2 +[0-9]+ +France +0 +all +any +orange\(-1,\+33\) backup\(-1,\+33\)$" \
	"$WORKDIR/out"
has "callers and length are shown" "^3 +[0-9]+ +Short +any +100-120 +3-4 +backup$" \
	"$WORKDIR/out"
france=$(ctl --json outbound list |
	json_query '[r["id"] for r in j if r["name"] == "France"][0]')
short=$(ctl --json outbound list |
	json_query '[r["id"] for r in j if r["name"] == "Short"][0]')

expect_rc "a route to an unknown trunk is refused with 1" 1 \
	outbound add --name X --route ghost
has "it names the trunk" "route 1: trunk ghost does not exist" "$WORKDIR/err"
expect_rc "outbound add without --route is a usage error" 2 \
	outbound add --name X
expect_rc "six routes are a usage error" 2 outbound add --name X \
	--route a --route a --route a --route a --route a --route a
expect_rc "a bad STRIP is a usage error" 2 outbound add --name X --route a:b
expect_rc "a bad prefix is refused with 1" 1 \
	outbound add --name X --prefix 0a --route orange
has "it says why" "prefix: '0a'" "$WORKDIR/err"

# ---- inbound rules -----------------------------------------------------------
ext_add 100 'Str0ng-Pass!x' || fail "extension 100 added"
expect_rc "inbound add exits 0" 0 inbound add --name Main --did 2304024 \
	--trunk orange --open extension:100 --closed external:0612345678
expect_rc "inbound add for any trunk exits 0" 0 \
	inbound add --name Rest --did '*' --open hangup
expect_rc "inbound list exits 0" 0 inbound list
has "inbound list has its heading" \
	"^ID +NAME +TRUNK +DID +OPEN +CLOSED +HOLIDAY$" "$WORKDIR/out"
has "Main is listed; holidays go where out of hours goes" \
	"^[0-9]+ +Main +orange +2304024 +extension:100 +external:0612345678 +external:0612345678$" \
	"$WORKDIR/out"
has "Rest is for any trunk" "^[0-9]+ +Rest +any +\* +hangup +hangup +hangup$" \
	"$WORKDIR/out"
main=$(ctl --json inbound list |
	json_query '[r["id"] for r in j if r["name"] == "Main"][0]')
expect_rc "a bad destination is refused with 1" 1 \
	inbound add --name X --did 2304025 --open voicemail:100
has "it lists the destinations" "hangup, extension:NUMBER or external:NUMBER" \
	"$WORKDIR/err"
expect_rc "an unknown extension is refused with 1" 1 \
	inbound add --name X --did 2304025 --open extension:555
expect_rc "inbound add without --open is a usage error" 2 \
	inbound add --name X --did 1

# ---- trunk remove ------------------------------------------------------------
expect_rc "removing a trunk rules use is refused with 1" 1 trunk remove orange
has "it names the outbound rule" "outbound rule $france \(France\)" "$WORKDIR/err"
has "it names the inbound rule" "inbound rule $main \(Main\)" "$WORKDIR/err"
expect_rc "outbound remove exits 0" 0 outbound remove "$france"
has "it says so" "^outbound rule $france removed$" "$WORKDIR/out"
expect_rc "outbound remove again exits 1" 1 outbound remove "$france"
expect_rc "outbound remove x is a usage error" 2 outbound remove x
expect_rc "inbound remove exits 0" 0 inbound remove "$main"
expect_rc "trunk remove exits 0 once no rule uses it" 0 trunk remove orange
has "it says so" "^trunk orange removed$" "$WORKDIR/out"
expect_eq "the rules after the removed one moved up" "1 Premium 2 Short" \
	"$(ctl --json outbound list |
		json_query '" ".join("%d %s" % (r["position"], r["name"]) for r in j)')"
expect_rc "outbound remove Short" 0 outbound remove "$short"

# ---- office hours and holidays -----------------------------------------------
expect_rc "hours set mon exits 0" 0 hours set mon 08:30-12:00,13:30-18:00
has "it says so" "^mon: 08:30-12:00,13:30-18:00$" "$WORKDIR/out"
expect_rc "hours set sun closed exits 0" 0 hours set sun closed
expect_rc "a range ending before it starts is refused with 1" 1 \
	hours set tue 18:00-08:00
has "it says why" "ends before it starts" "$WORKDIR/err"
expect_rc "hours set monday is a usage error" 2 hours set monday closed
expect_rc "hours set without RANGES is a usage error" 2 hours set mon

expect_rc "holiday add (yearly) exits 0" 0 \
	holiday add --name Christmas --date 2025-12-25 --yearly
has "it says so" "^holiday [0-9]+ \(Christmas\) added$" "$WORKDIR/out"
expect_rc "holiday add (a range) exits 0" 0 \
	holiday add --name Summer --date 2030-08-01..2030-08-15
expect_rc "a date that does not exist is refused with 1" 1 \
	holiday add --name Bad --date 2025-02-30
has "it says why" "first: '2025-02-30' is not a date" "$WORKDIR/err"
expect_rc "holiday add without --date is a usage error" 2 holiday add --name X
expect_rc "holiday list exits 0" 0 holiday list
has "a yearly holiday" "^[0-9]+ +Christmas +2025-12-25 +yes$" "$WORKDIR/out"
has "a range" "^[0-9]+ +Summer +2030-08-01\.\.2030-08-15 +no$" "$WORKDIR/out"

expect_rc "hours show exits 0" 0 hours show
expect_eq "hours show: 7 days, holidays, now" 9 "$(wc -l <"$WORKDIR/out")"
has "monday's hours" "^mon  08:30-12:00,13:30-18:00$" "$WORKDIR/out"
has "sunday closed" "^sun  closed$" "$WORKDIR/out"
has "tuesday never set: closed" "^tue  closed$" "$WORKDIR/out"
has "two holidays" "^holidays: 2$" "$WORKDIR/out"
has "open, closed or holiday now" "^now: (open|closed|holiday)$" "$WORKDIR/out"

summer=$(ctl --json holiday list |
	json_query '[h["id"] for h in j if h["name"] == "Summer"][0]')
expect_rc "holiday remove exits 0" 0 holiday remove "$summer"
has "hours show counts one holiday" "^holidays: 1$" \
	<(ctl hours show)

# ---- certificate: CSR on the server, signed by a test CA, installed ---------
KEY_NEW="$RELAIS_DIR/tls.pem.key.new"
expect_rc "cert csr exits 0" 0 cert csr --cn pbx.example.com \
	--san sip.example.com --org "Relais Test" --country FR \
	--out "$WORKDIR/pbx.csr"
has "it says where the CSR is" "^CSR written to $WORKDIR/pbx.csr$" "$WORKDIR/out"
has "it says the key stays on the server" "key stays with relaisd" "$WORKDIR/err"
check "the CSR verifies" openssl req -in "$WORKDIR/pbx.csr" -verify -noout
openssl req -in "$WORKDIR/pbx.csr" -noout -text >"$WORKDIR/csr.txt" 2>&1
has "the CSR key is RSA 2048" "Public-Key: \(2048 bit\)" "$WORKDIR/csr.txt"
has "the CSR is signed with SHA-256" "Signature Algorithm: sha256WithRSAEncryption" \
	"$WORKDIR/csr.txt"
has "the CSR names the host" "Subject: .*CN ?= ?pbx\.example\.com" "$WORKDIR/csr.txt"
has "the CSR has the SAN" "DNS:sip\.example\.com" "$WORKDIR/csr.txt"
check "the new key is on the server, mode 0600" \
	test "$(stat -c %a "$KEY_NEW" 2>/dev/null)" = 600
check "no private key went through relaisctl" \
	bash -c '! grep -q "PRIVATE KEY" "$0" "$1" "$2"' "$WORKDIR/pbx.csr" \
	"$WORKDIR/out" "$WORKDIR/err"
out=$(ctl cert csr --cn pbx.example.com --bits 3072 2>/dev/null)
check "cert csr prints the CSR without --out" \
	grep -q "BEGIN CERTIFICATE REQUEST" <<<"$out"
check "--bits 3072 makes a 3072-bit key" bash -c \
	'openssl req -noout -text <<<"$0" | grep -q "Public-Key: (3072 bit)"' "$out"
expect_rc "--bits 1024 is refused with 1" 1 cert csr --cn pbx.example.com \
	--bits 1024
expect_rc "cert csr without --cn is a usage error" 2 cert csr
# the key is made off the SIP thread: relaisd answers meanwhile, and
# refuses a second key until the first is made
ctl cert csr --cn slow.example.com --bits 4096 >"$WORKDIR/slow.out" \
	2>"$WORKDIR/slow.err" </dev/null &
slow=$!
track "$slow"
wait_for 100 0.1 grep -q "making an RSA 4096 key" "$RELAIS_LOG"
expect_rc "status answers while a 4096-bit key is made" 0 status
ctl cert csr --cn other.example.com >"$WORKDIR/busy.out" \
	2>"$WORKDIR/busy.err" </dev/null
busy=$?
if kill -0 "$slow" 2>/dev/null; then
	expect_eq "a second cert csr meanwhile is refused with 1" 1 "$busy"
	has "it says a key is being made" "being made already" "$WORKDIR/busy.err"
else
	echo "skip - the 4096-bit key was made before the second request"
fi
wait "$slow"
expect_eq "the 4096-bit cert csr exits 0" 0 $?
check "it printed its CSR" grep -q "BEGIN CERTIFICATE REQUEST" "$WORKDIR/slow.out"

# the key of the first CSR again, for the CA's answer below
expect_rc "cert csr again" 0 cert csr --cn pbx.example.com \
	--san sip.example.com --out "$WORKDIR/pbx.csr"

# a test CA signs it, for 20 days: within the 30-day warning
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
	-subj "/CN=Relais Test CA" -keyout "$WORKDIR/ca.key" \
	-out "$WORKDIR/ca.pem" >/dev/null 2>&1
check "test CA made" test -s "$WORKDIR/ca.pem"
openssl x509 -req -in "$WORKDIR/pbx.csr" -CA "$WORKDIR/ca.pem" \
	-CAkey "$WORKDIR/ca.key" -CAcreateserial -days 20 -sha256 \
	-copy_extensions copy -out "$WORKDIR/pbx.pem" >/dev/null 2>&1
check "test CA signed the CSR" test -s "$WORKDIR/pbx.pem"
cat "$WORKDIR/pbx.pem" "$WORKDIR/ca.pem" >"$WORKDIR/chain.pem"

# a certificate for another key is refused
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 5 -subj /CN=other \
	-keyout "$WORKDIR/other.key" -out "$WORKDIR/other.pem" >/dev/null 2>&1
expect_rc "a certificate for another key is refused with 1" 1 \
	cert install "$WORKDIR/other.pem"
has "it says the key does not match" "key|match" "$WORKDIR/err"
expect_rc "an absent file is a usage error" 2 cert install "$WORKDIR/none.pem"

expect_rc "cert install exits 0" 0 cert install "$WORKDIR/chain.pem"
has "it says installed" "^certificate installed$" "$WORKDIR/out"
has "it shows the subject" "^subject: .*pbx\.example\.com" "$WORKDIR/out"
check "the pending key went into tls_cert" test ! -e "$KEY_NEW"

expiry=$(date -d "$(openssl x509 -in "$WORKDIR/pbx.pem" -noout -enddate |
	cut -d= -f2)" +%Y-%m-%d)
expect_rc "cert show exits 0" 0 cert show
has "cert show: subject" "^subject: .*pbx\.example\.com" "$WORKDIR/out"
has "cert show: issuer is the test CA" "^issuer: .*Relais Test CA" "$WORKDIR/out"
has "cert show: its expiry" "^not after: +$expiry " "$WORKDIR/out"
has "cert show: days left" "^days left: +(19|20)$" "$WORKDIR/out"
has "cert show: RSA 2048" "^key: +RSA 2048 bits$" "$WORKDIR/out"
has "cert show warns: expires within 30 days" \
	"^warning: the certificate expires in (19|20) days$" "$WORKDIR/out"
check "cert show: not self-signed any more" \
	bash -c '! grep -q "self-signed" "$0"' "$WORKDIR/out"

# new TLS connections get it
subject=$(timeout 10 openssl s_client -connect "127.0.0.1:$RELAIS_TLS_PORT" \
	</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
check "the SIP TLS listener presents the new certificate ($subject)" \
	grep -q "pbx.example.com" <<<"$subject"

check "relaisd never logged the trunk passwords" \
	bash -c '! grep -qF -e "$0" -e Trunk-Secret-43 "$1"' "$TRUNK_PW" \
	"$RELAIS_LOG"

relais_stop
expect_eq "relaisd exits 0 on SIGTERM" 0 $?

finish
