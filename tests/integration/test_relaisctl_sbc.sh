#!/usr/bin/env bash
# relaisctl sbc ...: status, security level and settings, allow-list and
# deny-list, with their exit codes (0 ok, 1 refused by relaisd, 2 usage,
# 3 unreachable) and --json output.
#
# First with sbc_mode = off: every command works on the store (deny-list
# entries seeded with sqlite3 while relaisd is stopped). Then with the SBC
# running in mode standard on loopback (public 127.0.20.1, private
# 127.0.30.1, a PBX address nobody answers on): the settings stored before
# are in force, status shows the mode and addresses, and a source sending
# an OPTIONS burst lands on the deny-list, is listed and removed.
. "$(dirname "$0")/lib.sh"

PUB_IP=127.0.20.1
PRIV_IP=127.0.30.1
PBX_IP=127.0.40.1
FLOOD_IP=127.0.10.7

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

# jq_out EXPR: json_query on the last command's stdout
jq_out()
{
	json_query "$1" <"$WORKDIR/out"
}

RELAIS_EXTRA_CONF="sbc_mode = off"
relais_start

# ---- help, usage errors, unreachable ------------------------------------------
expect_rc "relaisctl --help exits 0" 0 --help
has "it lists the sbc commands" "^  sbc security deny clear$" "$WORKDIR/out"
expect_rc "sbc --help exits 0" 0 sbc --help
has "it lists sbc status" "^  sbc status$" "$WORKDIR/out"
expect_rc "sbc security allow --help lists the allow commands" 0 \
	sbc security allow --help
check "only the allow commands" \
	bash -c '! grep -q "deny" "$0" && grep -q "allow add" "$0"' \
	"$WORKDIR/out"
for c in "status" "security show" "security level" "security set" \
	"security allow list" "security allow add" "security allow remove" \
	"security deny list" "security deny remove" "security deny clear"; do
	# shellcheck disable=SC2086
	expect_rc "sbc $c --help exits 0" 0 sbc $c --help
	has "sbc $c --help shows its usage" "^usage: relaisctl .*sbc " \
		"$WORKDIR/out"
done
expect_rc "sbc alone is a usage error" 2 sbc
expect_rc "sbc frobnicate is a usage error" 2 sbc frobnicate
has "it names the command" 'unknown command "sbc frobnicate"' "$WORKDIR/err"
expect_rc "sbc security is a usage error" 2 sbc security
expect_rc "sbc status x is a usage error" 2 sbc status x
expect_rc "sbc status --dos-window 3 is a usage error" 2 \
	sbc status --dos-window 3
check "sbc status on a missing socket exits 3" bash -c \
	'"$0" --socket "$1" sbc status >/dev/null 2>&1; test $? -eq 3' \
	"$RELAISCTL" "$WORKDIR/none.sock"

# ---- status and settings with the SBC off ------------------------------------
expect_rc "sbc status exits 0" 0 sbc status
has "mode off" "^mode: +off" "$WORKDIR/out"
has "level auto at first start" "^security level: +auto$" "$WORKDIR/out"
expect_rc "sbc status --json exits 0" 0 sbc status --json
expect_eq "JSON: mode off, not running" "off False" \
	"$(jq_out '"%s %s" % (j["mode"], j["running"])')"
expect_rc "global --json works too" 0 --json sbc status
expect_eq "JSON (global --json): mode off" off "$(jq_out 'j["mode"]')"

expect_rc "sbc security show exits 0" 0 sbc security show
has "defaults: level auto" "^level: +auto$" "$WORKDIR/out"
has "defaults: 200 requests" "^dos-threshold: +200 requests" "$WORKDIR/out"
has "defaults: 1h" "^dos-period: +1h$" "$WORKDIR/out"
has "not running: applied when it starts" "^applied: +when the SBC starts" \
	"$WORKDIR/out"

expect_rc "sbc security level allowlist exits 0" 0 \
	sbc security level allowlist
has "it shows the new level" "^level: +allowlist$" "$WORKDIR/out"
expect_rc "sbc security level paranoid is a usage error" 2 \
	sbc security level paranoid
has "it lists the levels" "none, auto or allowlist" "$WORKDIR/err"
expect_rc "sbc security level without LEVEL is a usage error" 2 \
	sbc security level

expect_rc "sbc security set exits 0" 0 sbc security set \
	--dos-threshold 300 --dos-window 4 --dos-period 5min \
	--bf-failures 5 --bf-period never --deny-max 500
has "dos-threshold changed" "^dos-threshold: +300 requests" "$WORKDIR/out"
has "dos-period changed" "^dos-period: +5min$" "$WORKDIR/out"
has "bf-period never" "^bf-period: +never$" "$WORKDIR/out"
has "the level stays" "^level: +allowlist$" "$WORKDIR/out"
expect_rc "sbc security set --json exits 0" 0 sbc security set \
	--ddos-threshold 3000 --json
expect_eq "JSON: ddos_threshold, deny_max, dos_period" "3000 500 5min" \
	"$(jq_out '"%d %d %s" % (j["ddos_threshold"], j["deny_max"],
		j["dos_period"])')"

expect_rc "a threshold below 10 is refused with 1" 1 \
	sbc security set --dos-threshold 5
has "it names the setting" "^relaisctl: .*dos_threshold" "$WORKDIR/err"
expect_rc "a window of 11 s is refused with 1" 1 \
	sbc security set --dos-window 11
has "it names the setting" "^relaisctl: .*dos_window" "$WORKDIR/err"
expect_rc "--dos-period 2h is a usage error" 2 \
	sbc security set --dos-period 2h
has "it lists the periods" "30s, 5min, 30min, 1h, 1d, 1w or never" \
	"$WORKDIR/err"
expect_rc "--dos-window x is a usage error" 2 sbc security set --dos-window x
expect_rc "sbc security set without a setting is a usage error" 2 \
	sbc security set
expect_rc "--colour is a usage error" 2 sbc security set --colour 1
expect_rc "security show after the refusals" 0 sbc security show
has "the refused values changed nothing" "^dos-window: +4 s$" "$WORKDIR/out"

# ---- allow-list with the SBC off ---------------------------------------------
expect_rc "allow list of an empty list exits 0" 0 sbc security allow list
has "it says it is empty" "^the allow-list is empty$" "$WORKDIR/out"
expect_rc "allow add of two entries exits 0" 0 \
	sbc security allow add 192.0.2.10 198.51.100.0/24
has "the address is added" "^192\.0\.2\.10 added to the allow-list$" \
	"$WORKDIR/out"
has "the network is added" "^198\.51\.100\.0/24 added to the allow-list$" \
	"$WORKDIR/out"
expect_rc "allow add of an IPv6 network --json exits 0" 0 \
	sbc security allow add 2001:db8::/32 --json
expect_eq "JSON: the entries added" "2001:db8::/32" \
	"$(jq_out '[e["cidr"] for e in j]')"
expect_rc "a duplicate is refused with 1" 1 \
	sbc security allow add 198.51.100.0/24
has "it says it is listed" "198\.51\.100\.0/24 is on the allow-list already" \
	"$WORKDIR/err"
expect_rc "0.0.0.0 is refused with 1" 1 sbc security allow add 0.0.0.0
has "relaisd says why" "^relaisctl: cidr: " "$WORKDIR/err"
expect_rc "one refusal among good entries exits 1" 1 \
	sbc security allow add 203.0.113.5 255.255.255.255
has "the good one is added anyway" "^203\.0\.113\.5 added" "$WORKDIR/out"
expect_rc "'a;b' is a usage error" 2 sbc security allow add 'a;b'
expect_rc "allow add without CIDR is a usage error" 2 sbc security allow add
expect_rc "allow list exits 0" 0 sbc security allow list
has "allow list has its heading" "^ALLOWED$" "$WORKDIR/out"
has "the network is listed" "^198\.51\.100\.0/24$" "$WORKDIR/out"
expect_eq "allow list --json has 4 entries" 4 \
	"$(ctl sbc security allow list --json | json_query 'len(j)')"
expect_rc "allow remove of a network exits 0" 0 \
	sbc security allow remove 198.51.100.0/24 2001:db8::/32
has "it says removed" "^198\.51\.100\.0/24 removed from the allow-list$" \
	"$WORKDIR/out"
expect_rc "allow remove again is refused with 1" 1 \
	sbc security allow remove 198.51.100.0/24
has "it says it is not listed" "not on the allow-list" "$WORKDIR/err"
expect_eq "two entries left" "192.0.2.10 203.0.113.5" \
	"$(ctl --json sbc security allow list |
		json_query '" ".join(e["cidr"] for e in j)')"

# ---- deny-list with the SBC off: entries seeded in the store -----------------
expect_rc "deny list of an empty list exits 0" 0 sbc security deny list
has "it says it is empty" "^the deny-list is empty$" "$WORKDIR/out"

relais_stop
now=$(date +%s)
sqlite3 "$RELAIS_DB" "
INSERT INTO sbc_deny VALUES ('192.0.2.1', 'dos', '250 requests in 5 s',
	$((now - 60)), $((now + 3600)));
INSERT INTO sbc_deny VALUES ('192.0.2.2', 'brute-force',
	'10 failed authentications', $((now - 120)), 0);
INSERT INTO sbc_deny VALUES ('192.0.2.3', 'malicious',
	'User-Agent friendly-scanner', $((now - 30)), $((now + 300)));
INSERT INTO sbc_deny VALUES ('192.0.2.4', 'dos', '', $((now - 7200)),
	$((now - 3600)));
INSERT INTO sbc_deny VALUES ('2001:db8::5', 'dos', '', $((now - 10)),
	$((now + 60)));"
check "deny-list entries seeded" test $? -eq 0
relais_start

since=$(date -d "@$((now - 60))" "+%Y-%m-%d %H:%M:%S")
until=$(date -d "@$((now + 3600))" "+%Y-%m-%d %H:%M:%S")
expect_rc "deny list exits 0" 0 sbc security deny list
has "deny list has its heading" \
	"^ADDRESS +REASON +SINCE +UNTIL +DROPS +DETAIL$" "$WORKDIR/out"
has "a DoS entry with local dates" \
	"^192\.0\.2\.1 +dos +$since +$until +0 +250 requests in 5 s$" \
	"$WORKDIR/out"
has "a brute-force entry that never expires" \
	"^192\.0\.2\.2 +brute-force +[0-9-]+ [0-9:]+ +never +0 " "$WORKDIR/out"
check "an expired entry is not listed" \
	bash -c '! grep -q "^192\.0\.2\.4 " "$0"' "$WORKDIR/out"
expect_rc "deny list --json exits 0" 0 sbc security deny list --json
expect_eq "JSON: 4 entries, ISO 8601 UTC dates, never" "4 never True" \
	"$(jq_out '"%d %s %s" % (len(j),
		[e for e in j if e["address"] == "192.0.2.2"][0]["until"],
		[e for e in j if e["address"] == "192.0.2.1"][0]["since"]
		.endswith("Z"))')"
expect_rc "sbc status counts them" 0 sbc status
has "deny-list: 4" "^deny-list: +4$" "$WORKDIR/out"
has "allow-list: 2" "^allow-list: +2$" "$WORKDIR/out"
has "the level set earlier" "^security level: +allowlist$" "$WORKDIR/out"

expect_rc "deny remove of one address exits 0" 0 \
	sbc security deny remove 192.0.2.1
has "it says removed" "^192\.0\.2\.1 removed from the deny-list$" \
	"$WORKDIR/out"
expect_rc "deny remove of it again is refused with 1" 1 \
	sbc security deny remove 192.0.2.1
has "it says it is not listed" "192\.0\.2\.1 is not on the deny-list" \
	"$WORKDIR/err"
expect_rc "deny remove of several, one unknown, exits 1" 1 \
	sbc security deny remove 192.0.2.2 2001:db8::5 192.0.2.99
has "the others are removed" "^2 entries removed from the deny-list$" \
	"$WORKDIR/out"
has "the unknown one is named" "192\.0\.2\.99 is not on the deny-list" \
	"$WORKDIR/err"
expect_rc "deny remove of a network is a usage error" 2 \
	sbc security deny remove 192.0.2.0/24
expect_rc "deny remove without ADDR is a usage error" 2 \
	sbc security deny remove
expect_rc "deny clear --json exits 0" 0 sbc security deny clear --json
expect_eq "JSON: one entry was left" 1 "$(jq_out 'j["removed"]')"
expect_rc "deny clear of an empty list exits 0" 0 sbc security deny clear
has "it says none was removed" "^deny-list cleared: 0 entries removed$" \
	"$WORKDIR/out"
expect_eq "the store is empty" 0 \
	"$(sqlite3 "$RELAIS_DB" 'SELECT COUNT(*) FROM sbc_deny')"

relais_stop
expect_eq "relaisd (SBC off) exits 0 on SIGTERM" 0 $?

# ---- the SBC running: mode standard on loopback ------------------------------
free_port SBC_PUB_PORT || die "no free port"
free_port SBC_PRIV_PORT || die "no free port"
free_port PBX_PORT || die "no free port"
free_range 40 SBC_RTP_MIN SBC_RTP_MAX || die "no free port range"
RELAIS_EXTRA_CONF="sbc_mode = standard
sbc_public_interface = $PUB_IP
sbc_public_transports = tls+udp/tcp
sbc_public_port = $SBC_PUB_PORT
sbc_private_interface = $PRIV_IP
sbc_private_transports = udp/tcp
sbc_private_port = $SBC_PRIV_PORT
sbc_pbx = $PBX_IP:$PBX_PORT
sbc_pbx_transport = udp
sbc_rtp_port_min = $SBC_RTP_MIN
sbc_rtp_port_max = $SBC_RTP_MAX"
relais_start

expect_rc "sbc status (running) exits 0" 0 sbc status
has "mode standard" "^mode: +standard$" "$WORKDIR/out"
has "public interface IP2 with its port and transports" \
	"^public interface: +$PUB_IP:$SBC_PUB_PORT \(IP2\) tls,udp,tcp$" \
	"$WORKDIR/out"
has "public address IP1 defaults to IP2" \
	"^public address: +$PUB_IP:$SBC_PUB_PORT \(IP1\)$" "$WORKDIR/out"
has "private interface IP3" \
	"^private interface: +$PRIV_IP:$SBC_PRIV_PORT \(IP3\) udp,tcp$" \
	"$WORKDIR/out"
has "the PBX IP5" "^pbx: +$PBX_IP:$PBX_PORT \(IP5\) udp$" "$WORKDIR/out"
has "the RTP range" "^rtp ports: +$SBC_RTP_MIN-$SBC_RTP_MAX$" "$WORKDIR/out"
has "the stored level is in force" "^security level: +allowlist$" \
	"$WORKDIR/out"
expect_rc "sbc status --json (running) exits 0" 0 sbc status --json
expect_eq "JSON: running, mode, IP2, allow_count" \
	"True standard $PUB_IP:$SBC_PUB_PORT 2" \
	"$(jq_out '"%s %s %s %d" % (j["running"], j["mode"],
		j["addresses"]["ip2"], j["guard"]["allow_count"])')"

expect_rc "security show (running) exits 0" 0 sbc security show
has "the running SBC applies them" "^applied: +by the running SBC$" \
	"$WORKDIR/out"
has "the stored settings are the running ones" \
	"^dos-threshold: +300 requests" "$WORKDIR/out"

# a flood from one source: level auto, 10 requests in 2 s deny it
expect_rc "level auto, a low threshold" 0 sbc security set \
	--dos-threshold 10 --dos-window 2 --dos-period 5min
expect_rc "sbc security level auto" 0 sbc security level auto
expect_rc "sbc status shows level auto" 0 sbc status
has "level auto in force" "^security level: +auto$" "$WORKDIR/out"

"$PYTHON" - "$FLOOD_IP" "$PUB_IP" "$SBC_PUB_PORT" <<'PYEOF'
import socket, sys

src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(40):
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKflood%d;rport\r\n"
           "Max-Forwards: 70\r\n"
           "To: <sip:%s:%d>\r\n"
           "From: <sip:flood@%s>;tag=f%d\r\n"
           "Call-ID: flood-%d@%s\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n") % (
        dst, port, src, s.getsockname()[1], i, dst, port, src, i, i, src)
    s.sendto(msg.encode(), (dst, port))
PYEOF

denied()
{
	ctl --json sbc security deny list 2>/dev/null |
		json_query '[e["reason"] for e in j
			if e["address"] == "'"$FLOOD_IP"'"]' | grep -q dos
}
check "the flooding source is on the deny-list" wait_for 50 0.1 denied
expect_rc "deny list (running) exits 0" 0 sbc security deny list
has "it is listed with reason dos, for 5 min" \
	"^${FLOOD_IP//./\\.} +dos +[0-9-]+ [0-9:]+ +[0-9-]+ [0-9:]+ +[0-9]+ " \
	"$WORKDIR/out"
expect_rc "sbc status counts the drops" 0 sbc status --json
check "dropped_denied and deny_dos counted" test \
	"$(jq_out '"%d %d" % (j["guard"]["dropped_denied"] > 0,
		j["guard"]["deny_dos"])')" = "1 1"
expect_eq "the store has it too" 1 \
	"$(sqlite3 "$RELAIS_DB" \
		"SELECT COUNT(*) FROM sbc_deny WHERE addr = '$FLOOD_IP'")"
expect_rc "deny remove (running) exits 0" 0 sbc security deny remove "$FLOOD_IP"
expect_rc "deny list after the removal" 0 sbc security deny list
has "it is empty" "^the deny-list is empty$" "$WORKDIR/out"
expect_eq "the store follows" 0 \
	"$(sqlite3 "$RELAIS_DB" \
		"SELECT COUNT(*) FROM sbc_deny WHERE addr = '$FLOOD_IP'")"
expect_rc "deny remove of it again is refused with 1" 1 \
	sbc security deny remove "$FLOOD_IP"
expect_rc "deny clear (running) exits 0" 0 sbc security deny clear

relais_stop
expect_eq "relaisd (SBC standard) exits 0 on SIGTERM" 0 $?

finish
