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


# ua_start NAME AOR PARAMS TONE [CONFIG LINE...]: a baresip in
# WORKDIR/ua-NAME (NAME: letters, digits, _) with the one account
# "<AOR>;PARAMS" (a carrier that does not register: regint=0), playing
# TONE (a WAV at the codec's sample rate: aufile does not resample) and
# recording what it hears in WORKDIR/ua-NAME/rec/*-dec.wav. Codec modules
# come from UA_CODECS (default "g711"); srtp is loaded (an account uses it
# with mediaenc=srtp or srtp-mand). Each CONFIG LINE is appended to the
# config (e.g. "sip_certificate FILE", cert and key in one PEM). Sets
# SIP_NAME (UDP and TCP there, TLS on SIP_NAME + 1), CONS_NAME,
# RTP_NAME_MIN/MAX and UA_PID_NAME. UA_IP: its address (127.0.0.1).
ua_start()
{
	local name=$1 aor=$2 params=$3 tone=$4 dir="$WORKDIR/ua-$1"
	# shellcheck disable=SC2034 # sipend: reserved, not used
	local sip sipend cons rmin rmax codec line ip=${UA_IP:-127.0.0.1}
	shift 4

	mkdir -p "$dir/rec"
	free_range 4 sip sipend || die "no free ports"
	free_port cons || die "no free port"
	free_range 20 rmin rmax || die "no free ports"
	printf -v "CONS_$name" '%s' "$cons"
	printf -v "SIP_$name" '%s' "$sip"
	printf -v "RTP_${name}_MIN" '%s' "$rmin"
	printf -v "RTP_${name}_MAX" '%s' "$rmax"

	{
		echo "module_path /usr/lib/baresip/modules"
		echo "net_interface $ip"
		echo "sip_listen $ip:$sip"
		echo "rtp_ports $rmin-$rmax"
		echo "audio_source aufile,$tone"
		echo "audio_player aubridge,nowhere_$name"
		echo "snd_path $dir/rec"
		echo "cons_listen 127.0.0.1:$cons"
		for codec in ${UA_CODECS:-g711}; do
			echo "module $codec.so"
		done
		echo "module srtp.so"
		echo "module aufile.so"
		echo "module aubridge.so"
		echo "module sndfile.so"
		echo "module cons.so"
		echo "module_app menu.so"
		echo "module_app account.so"
		for line in "$@"; do
			echo "$line"
		done
	} >"$dir/config"
	printf '%s;%s\n' "<$aor>" "$params" >"$dir/accounts"

	baresip -f "$dir" >"$dir/out.txt" 2>&1 </dev/null &
	printf -v "UA_PID_$name" '%s' "$!"
	track $!
}

# ua_stop NAME: stop a baresip started by ua_start (after its calls ended,
# so that sndfile has closed its recordings)
ua_stop()
{
	local pid="UA_PID_$1"
	kill_pid "${!pid}"
}

# ua_listening NAME udp|tls: its SIP listener is up
ua_listening()
{
	local sip="SIP_$1"
	case "$2" in
	tls) [ -n "$(ss -Hlnt "( sport = :$((${!sip} + 1)) )")" ] ;;
	*) [ -n "$(ss -Hlnu "( sport = :${!sip} )")" ] ;;
	esac
}

# ua_registered EXT NAME: relaisd holds a binding of EXT whose contact is
# NAME's (its SIP or TLS port), not that of an earlier phone
ua_registered()
{
	local sip="SIP_$2"
	ctl --json registrations --ext "$1" |
		json_query "[c['uri'] for c in j]" |
		grep -qE ":(${!sip}|$((${!sip} + 1)))\b"
}

# ua_heard NAME HZ: NAME recorded one call, loud and near HZ
ua_heard()
{
	local f st rms freq n=0

	for f in "$WORKDIR/ua-$1"/rec/*-dec.wav; do
		[ -f "$f" ] && n=$((n + 1))
	done
	if [ "$n" -ne 1 ]; then
		echo "     $1: $n recordings, expected 1"
		return 1
	fi
	f=$(ls "$WORKDIR/ua-$1"/rec/*-dec.wav)
	st=$(sox "$f" -n stat 2>&1)
	rms=$(echo "$st" | awk '/RMS +amplitude/ { print $3 }')
	freq=$(echo "$st" | awk '/Rough +frequency/ { print $3 }')
	echo "     $1 heard: RMS $rms, ~$freq Hz"
	awk -v r="$rms" -v f="$freq" -v hz="$2" \
		'BEGIN { exit !(r > 0.05 && f > hz * 0.9 && f < hz * 1.1) }'
}
