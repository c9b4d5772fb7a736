#!/usr/bin/env bash
# relaisctl against a running relaisd: every command, --json, --help, the
# errors and the exit codes (0 ok, 1 refused, 2 usage, 3 unreachable).
. "$(dirname "$0")/lib.sh"

relais_start

out=$(ctl extension add 100 --name "Alice Martin" --password 'Str0ng-Pass!x' 2>&1)
expect_eq "add 100 exits 0" 0 $?
check "add 100 says created" grep -q "extension 100 created" <<<"$out"

out=$(ctl --json extension add 101 --name Bob --generate-password 2>&1)
expect_eq "add 101 with a generated password exits 0" 0 $?
pw101=$(json_query 'j["password"]' <<<"$out")
check "the generated password is 16 characters" test ${#pw101} -eq 16

ctl extension add 100 --password 'Str0ng-Pass!x' >/dev/null 2>"$WORKDIR/err"
expect_eq "duplicate extension exits 1" 1 $?
check "duplicate says it exists" grep -q "already exists" "$WORKDIR/err"

for weak in 'short1A!' 'alllowercaseletters' 'Password-123' 'Abcd-5678-xyz' \
	'Ext102-Pass!' 'aaaa-BBBB-1234'; do
	ctl extension add 102 --password "$weak" >/dev/null 2>"$WORKDIR/err"
	expect_eq "weak password '$weak' refused with 1" 1 $?
	check "the refusal names a rule ('$weak')" grep -q "password" "$WORKDIR/err"
done

ctl extension add 0123 --password 'Str0ng-Pass!x' >/dev/null 2>"$WORKDIR/err"
expect_eq "a number starting with 0 is refused" 1 $?

ctl extension add 12a --password 'Str0ng-Pass!x' >/dev/null 2>"$WORKDIR/err"
expect_eq "a non-numeric number is a usage error" 2 $?

# the password may come from standard input, one line
echo 'Piped-Secret-77' | ctl extension add 103 --name Piped >/dev/null
expect_eq "password read from stdin" 0 $?

out=$(ctl --json extension list)
expect_eq "list has 3 extensions" "100 101 103" \
	"$(json_query '" ".join(e["number"] for e in j)' <<<"$out")"
check "list (table) shows the name" grep -q "Alice Martin" <<<"$(ctl extension list)"
check "no password or hash in the list" bash -c '! grep -qi "ha1\|pass" <<<"$0"' "$out"

ctl extension passwd 103 --password 'Other-Secret-88' >/dev/null
expect_eq "passwd exits 0" 0 $?
ctl extension passwd 104 --password 'Other-Secret-88' >/dev/null 2>&1
expect_eq "passwd of an unknown extension exits 1" 1 $?

out=$(ctl --json extension show 101)
expect_eq "show 101 gives its name" Bob "$(json_query 'j["name"]' <<<"$out")"
expect_eq "101 is not registered" False "$(json_query 'j["registered"]' <<<"$out")"

ctl extension remove 103 >/dev/null
expect_eq "remove exits 0" 0 $?
ctl extension remove 103 >/dev/null 2>&1
expect_eq "removing it again exits 1" 1 $?

out=$(ctl --json registrations)
expect_eq "no registrations yet" 0 "$(json_query 'len(j)' <<<"$out")"
out=$(ctl --json calls --active)
expect_eq "no active calls" 0 "$(json_query 'len(j)' <<<"$out")"
out=$(ctl --json cdr --limit 5)
expect_eq "no call records" 0 "$(json_query 'len(j)' <<<"$out")"
out=$(ctl --json status)
expect_eq "status gives the version" 0.1.0 "$(json_query 'j["version"]' <<<"$out")"

ctl >/dev/null 2>&1
expect_eq "no command is a usage error" 2 $?
ctl frobnicate >/dev/null 2>&1
expect_eq "an unknown command is a usage error" 2 $?
ctl calls >/dev/null 2>&1
expect_eq "calls without --active is a usage error" 2 $?
ctl cdr --limit x >/dev/null 2>&1
expect_eq "a bad --limit is a usage error" 2 $?
check "--help prints the exit codes" grep -q "exit status" <<<"$(ctl --help)"
check "extension --help works" grep -q "extension add" <<<"$(ctl extension --help)"

"$RELAISCTL" --config "$RELAIS_CONF" --json status >/dev/null
expect_eq "--config finds the socket" 0 $?

"$RELAISCTL" --socket "$WORKDIR/nope.sock" status >/dev/null 2>"$WORKDIR/err"
expect_eq "an absent socket exits 3" 3 $?
check "the message names the socket" grep -q "nope.sock" "$WORKDIR/err"

relais_stop
ctl status >/dev/null 2>&1
expect_eq "a stopped relaisd exits 3" 3 $?

finish
