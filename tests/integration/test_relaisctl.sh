#!/usr/bin/env bash
# relaisctl against a running relaisd: every command, --json, --help, the
# errors and the exit codes (0 ok, 1 refused, 2 usage, 3 unreachable).
. "$(dirname "$0")/lib.sh"

# expect_rc DESCRIPTION CODE ARGS...: relaisctl ARGS exits with CODE; its
# stdout and stderr are left in $WORKDIR/out and $WORKDIR/err
expect_rc()
{
	local what=$1 code=$2
	shift 2
	ctl "$@" >"$WORKDIR/out" 2>"$WORKDIR/err"
	expect_eq "$what" "$code" $?
}

relais_start

# ---- extension add ---------------------------------------------------------
out=$(ctl extension add 100 --name "Alice Martin" --password 'Str0ng-Pass!x' 2>&1)
expect_eq "add 100 exits 0" 0 $?
check "add 100 says created" grep -q "extension 100 created" <<<"$out"

out=$(ctl --json extension add 101 --name Bob --generate-password 2>&1)
expect_eq "add 101 with a generated password exits 0" 0 $?
pw101=$(json_query 'j["password"]' <<<"$out")
check "the generated password is 16 characters" test ${#pw101} -eq 16
expect_eq "the JSON answer names 101" 101 "$(json_query 'j["number"]' <<<"$out")"

out=$(ctl extension add 105 --name Eve --generate-password 2>&1)
expect_eq "add 105 with a generated password (table output)" 0 $?
check "the generated password is printed once" \
	grep -qE '^password: .{16}$' <<<"$out"

expect_rc "duplicate extension exits 1" 1 \
	extension add 100 --name Again --password 'Str0ng-Pass!x'
check "duplicate says it exists" grep -q "^relaisctl: extension 100 already exists" "$WORKDIR/err"

for weak in 'short1A!' 'alllowercaseletters' 'Password-123' 'Abcd-5678-xyz' \
	'Ext102-Pass!' 'aaaa-BBBB-1234' 'Welcome@123'; do
	expect_rc "weak password '$weak' refused with 1" 1 \
		extension add 102 --name Weak --password "$weak"
	check "the refusal names a rule ('$weak')" grep -q "password" "$WORKDIR/err"
	check "the refusal does not repeat it ('$weak')" \
		bash -c '! grep -qF -- "$0" "$1"' "$weak" "$WORKDIR/err"
done

expect_rc "a number starting with 0 is refused by relaisd" 1 \
	extension add 0123 --name Zero --password 'Str0ng-Pass!x'
check "it says why" grep -q "must not start with 0" "$WORKDIR/err"
expect_rc "a non-numeric number is a usage error" 2 \
	extension add 12a --name X --password 'Str0ng-Pass!x'
expect_rc "add without --name is a usage error" 2 \
	extension add 104 --password 'Str0ng-Pass!x'
expect_rc "--password with --generate-password is a usage error" 2 \
	extension add 104 --name X --password 'Str0ng-Pass!x' --generate-password
expect_rc "add without NUMBER is a usage error" 2 extension add --name X
expect_rc "an option another command takes is a usage error" 2 \
	extension add 104 --name X --limit 3

# the password may come from standard input, one line
echo 'Piped-Secret-77' | ctl extension add 103 --name Piped >/dev/null
expect_eq "password read from stdin" 0 $?
ctl extension add 106 --name Empty </dev/null >/dev/null 2>"$WORKDIR/err"
expect_eq "no password on stdin is a usage error" 2 $?

# on a terminal it is asked for twice, without echo
# tty_ctl ANSWER1 ANSWER2 ARGS...: relaisctl on a pseudo-terminal, typing
# the two answers; prints what the terminal showed, exits with its status
tty_ctl()
{
	"$PYTHON" - "$RELAISCTL" --socket "$RELAIS_SOCK" "$@" <<'PY'
import os, pty, select, signal, sys, time
a1, a2 = sys.argv[4], sys.argv[5]
argv = sys.argv[1:4] + sys.argv[6:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)

def read(timeout=10):
    """what the terminal shows next; b"" at its end or after timeout"""
    if not select.select([fd], [], [], timeout)[0]:
        return b""
    try:
        return os.read(fd, 1000)
    except OSError:
        return b""

out = b""
for prompt, answer in ((b"Password: ", a1), (b"Password again: ", a2)):
    while not out.endswith(prompt):
        d = read()
        if not d:
            break
        out += d
    os.write(fd, answer.encode() + b"\n")
while True:
    d = read()
    if not d:
        break
    out += d
for _ in range(100):  # bounded: 10 s
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, signal.SIGKILL)
    _, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(st))
PY
}

out=$(tty_ctl 'Tty-Secret-41x' 'Tty-Secret-41x' extension add 107 --name Tty)
expect_eq "password asked for on a terminal" 0 $?
check "it was asked twice" grep -q "Password again:" <<<"$out"
check "it was not echoed" bash -c '! grep -q "Tty-Secret" <<<"$0"' "$out"
out=$(tty_ctl 'Tty-Secret-41x' 'Tty-Secret-42y' extension add 108 --name Tty)
expect_eq "two different answers are a usage error" 2 $?
check "it says they differ" grep -q "the passwords differ" <<<"$out"
expect_rc "remove 107 (terminal test)" 0 extension remove 107

# ---- list, show ------------------------------------------------------------
out=$(ctl --json extension list)
expect_eq "list has 4 extensions" "100 101 103 105" \
	"$(json_query '" ".join(e["number"] for e in j)' <<<"$out")"
check "no password or hash in the list" bash -c '! grep -qi "ha1\|pass" <<<"$0"' "$out"
out=$(ctl extension list)
check "list (table) shows the name" grep -q "Alice Martin" <<<"$out"
check "list (table) has a heading" grep -qE "^NUMBER +NAME +REGISTERED" <<<"$out"
expect_eq "list (table) columns are aligned" 1 \
	"$(awk '{ print index($0, "no") }' <<<"$(tail -n +2 <<<"$out")" | sort -u | wc -l)"
out=$(ctl extension list --json)
expect_eq "--json after the command works too" 4 "$(json_query 'len(j)' <<<"$out")"

out=$(ctl --json extension show 101)
expect_eq "show 101 gives its name" Bob "$(json_query 'j["name"]' <<<"$out")"
expect_eq "101 is not registered" False "$(json_query 'j["registered"]' <<<"$out")"
expect_eq "101 has no bindings" 0 "$(json_query 'len(j["bindings"])' <<<"$out")"
check "show (text) gives the name" grep -q "^name: *Bob$" <<<"$(ctl extension show 101)"
expect_rc "show of an unknown extension exits 1" 1 extension show 109
check "it says it does not exist" grep -q "extension 109 does not exist" "$WORKDIR/err"

# ---- passwd ----------------------------------------------------------------
expect_rc "passwd exits 0" 0 extension passwd 103 --password 'Other-Secret-88'
check "passwd says so" grep -q "extension 103: password changed" "$WORKDIR/out"
expect_rc "passwd of an unknown extension exits 1" 1 \
	extension passwd 104 --password 'Other-Secret-88'
expect_rc "a weak new password exits 1" 1 extension passwd 103 --password weak
out=$(ctl --json extension passwd 105 --generate-password)
expect_eq "passwd --generate-password exits 0" 0 $?
pw105=$(json_query 'j["password"]' <<<"$out")
check "the new generated password is 16 characters" test ${#pw105} -eq 16
echo 'Piped-Secret-99' | ctl extension passwd 103 >/dev/null
expect_eq "passwd reads stdin" 0 $?

# ---- remove ----------------------------------------------------------------
expect_rc "remove exits 0" 0 extension remove 103
check "remove says so" grep -q "extension 103 removed" "$WORKDIR/out"
expect_rc "removing it again exits 1" 1 extension remove 103
expect_eq "103 is gone" "100 101 105" \
	"$(ctl --json extension list | json_query '" ".join(e["number"] for e in j)')"

# ---- registrations, calls, cdr, status -------------------------------------
out=$(ctl --json registrations)
expect_eq "no registrations yet" 0 "$(json_query 'len(j)' <<<"$out")"
out=$(ctl --json registrations --ext 100)
expect_eq "no registrations of 100" 0 "$(json_query 'len(j)' <<<"$out")"
expect_rc "registrations (text) exits 0" 0 registrations
check "it says there are none" grep -q "no registrations" "$WORKDIR/out"
out=$(ctl --json calls --active)
expect_eq "no active calls" 0 "$(json_query 'len(j)' <<<"$out")"
out=$(ctl --json cdr --limit 5)
expect_eq "no call records" 0 "$(json_query 'len(j)' <<<"$out")"
expect_rc "cdr --limit 0 is refused by relaisd" 1 cdr --limit 0
check "it gives the range" grep -q "1 to 10000" "$WORKDIR/err"
expect_rc "cdr --limit 20000 is refused by relaisd" 1 cdr --limit 20000
out=$(ctl --json status)
expect_eq "status gives the version" 0.1.0 "$(json_query 'j["version"]' <<<"$out")"
expect_eq "status counts no calls" 0 "$(json_query 'j["calls"]' <<<"$out")"
check "status (text)" grep -q "^relaisd 0.1.0, up " <<<"$(ctl status)"

# ---- usage errors and help -------------------------------------------------
expect_rc "no command is a usage error" 2
expect_rc "an unknown command is a usage error" 2 frobnicate
check "it names the command" grep -q "unknown command \"frobnicate\"" "$WORKDIR/err"
expect_rc "an unknown extension command is a usage error" 2 extension frob 100
expect_rc "extension alone is a usage error" 2 extension
expect_rc "calls without --active is a usage error" 2 calls
expect_rc "a bad --limit is a usage error" 2 cdr --limit x
expect_rc "a bad --ext is a usage error" 2 registrations --ext 1x
expect_rc "an unknown option is a usage error" 2 status --frob
expect_rc "--limit without a value is a usage error" 2 cdr --limit
check "--help prints the exit codes" grep -q "exit status" <<<"$(ctl --help)"
check "extension --help lists its commands" \
	grep -q "extension passwd NUMBER" <<<"$(ctl extension --help)"
check "extension add --help explains the password rules" \
	grep -q "10 to 64 printable" <<<"$(ctl extension add --help)"
check "cdr --help works" grep -q "cdr \[--limit N\]" <<<"$(ctl cdr --help)"
"$RELAISCTL" --socket a --config b status >/dev/null 2>&1
expect_eq "--socket with --config is a usage error" 2 $?
"$RELAISCTL" --config "$WORKDIR/absent.conf" status >/dev/null 2>&1
expect_eq "an unreadable --config is a usage error" 2 $?

"$RELAISCTL" --config "$RELAIS_CONF" --json status >/dev/null
expect_eq "--config finds the socket" 0 $?

# ---- unreachable -----------------------------------------------------------
"$RELAISCTL" --socket "$WORKDIR/nope.sock" status >/dev/null 2>"$WORKDIR/err"
expect_eq "an absent socket exits 3" 3 $?
check "the message names the socket and the error" \
	grep -q "nope.sock: No such file or directory" "$WORKDIR/err"

# a socket nobody listens on
"$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$WORKDIR/dead.sock"
"$RELAISCTL" --socket "$WORKDIR/dead.sock" status >/dev/null 2>"$WORKDIR/err"
expect_eq "a dead socket exits 3" 3 $?
check "the message says refused" grep -q "dead.sock: Connection refused" "$WORKDIR/err"

relais_stop
expect_eq "relaisd exits 0 on SIGTERM" 0 $?
check "relaisd removed its socket" test ! -e "$RELAIS_SOCK"
expect_rc "a stopped relaisd exits 3" 3 status

finish
