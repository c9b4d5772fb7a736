# baresip.sh: headless baresip 1.0 phones for the integration tests
# (sourced after lib.sh, never run)
#
# Sound comes from aufile (a WAV), playback goes to aubridge (nowhere), the
# sndfile module records what the phone hears, and commands (/dial, /hold,
# /resume, /hangup) go to the cons module over UDP.

# phone_setup EXT PASSWORD [tls]: start a baresip in WORKDIR/phoneEXT,
# registering over UDP (or TLS, without checking relaisd's self-signed
# certificate); its ports go in SIP_EXT, CONS_EXT (command socket) and
# RTP_EXT_MIN/MAX. It plays WORKDIR/toneEXT.wav and records what it hears
# in WORKDIR/phoneEXT/rec/*-dec.wav.
phone_setup()
{
	# shellcheck disable=SC2034 # sipend: reserved, not used
	local ext=$1 pw=$2 dir="$WORKDIR/phone$1" sip sipend cons rmin rmax
	local server="127.0.0.1:$RELAIS_SIP_PORT"

	mkdir -p "$dir/rec"
	# baresip takes the SIP port and the next one (TLS)
	free_range 4 sip sipend || die "no free ports"
	free_port cons || die "no free port"
	free_range 20 rmin rmax || die "no free ports"
	printf -v "CONS_$ext" '%s' "$cons"
	printf -v "SIP_$ext" '%s' "$sip"
	printf -v "RTP_${ext}_MIN" '%s' "$rmin"
	printf -v "RTP_${ext}_MAX" '%s' "$rmax"

	{
		echo "module_path /usr/lib/baresip/modules"
		echo "net_interface 127.0.0.1"
		echo "sip_listen 127.0.0.1:$sip"
		echo "rtp_ports $rmin-$rmax"
		echo "audio_source aufile,$WORKDIR/tone$ext.wav"
		echo "audio_player aubridge,nowhere$ext"
		echo "snd_path $dir/rec"
		echo "cons_listen 127.0.0.1:$cons"
		echo "module g711.so"
		echo "module aufile.so"
		echo "module aubridge.so"
		echo "module sndfile.so"
		echo "module cons.so"
		echo "module_app menu.so"
		echo "module_app account.so"
	} >"$dir/config"
	[ "${3:-}" = tls ] && server="127.0.0.1:$RELAIS_TLS_PORT;transport=tls"
	printf '%s;%s\n' "<sip:$ext@$server>" \
		"auth_pass=$pw;regint=300;answermode=auto" >"$dir/accounts"

	baresip -f "$dir" >"$dir/out.txt" 2>&1 </dev/null &
	track $!
}

# cmd EXT COMMAND: a command to a phone's console (cons module, UDP)
cmd()
{
	local port="CONS_$1"
	printf '%s\n' "$2" >"/dev/udp/127.0.0.1/${!port}"
}

call_state()
{
	ctl --json calls --active | json_query '[c["state"] for c in j][:1]'
}

connected()
{
	[ "$(call_state)" = connected ]
}

no_call()
{
	[ "$(ctl --json calls --active | json_query 'len(j)')" = 0 ]
}

logged()
{
	grep -q "$1" "$RELAIS_LOG"
}

