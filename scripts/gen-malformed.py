#!/usr/bin/env python3
"""Write tests/data/malformed/: broken SIP messages for test_robustness.sh

Each file is one datagram (or one TCP write) that relaisd must survive:
it may answer 4xx (400 for a missing or broken mandatory header) or stay
silent, never 2xx, and it must keep answering OPTIONS afterwards. The
files are generated here so that the bytes are reproducible; run
`scripts/gen-malformed.py` after changing the list. They also seed the
fuzz_sipmsg corpus.
"""

import os
import random
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "data", "malformed")


def msg(lines, body=b""):
    head = "\r\n".join(lines).encode() + b"\r\n\r\n"
    return head + body


def std(method="OPTIONS", ruri="sip:127.0.0.1", skip=(), extra=(),
        callid="malformed-1@127.0.0.1", cseq=None, clen="0", body=b"",
        from_tag=";tag=f00"):
    hdrs = {
        "via": "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKmal1;rport",
        "mf": "Max-Forwards: 70",
        "to": "To: <sip:101@127.0.0.1>",
        "from": "From: <sip:100@127.0.0.1>" + from_tag,
        "callid": "Call-ID: " + callid,
        "cseq": "CSeq: " + (cseq or "1 " + method),
    }
    lines = [method + " " + ruri + " SIP/2.0"]
    for k, v in hdrs.items():
        if k not in skip:
            lines.append(v)
    lines.extend(extra)
    if clen is not None:
        lines.append("Content-Length: " + clen)
    return msg(lines, body)


SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       b"t=0 0\r\nm=audio 6000 RTP/AVP 8\r\n")


def files():
    rnd = random.Random(20240601)
    full = std("INVITE", "sip:101@127.0.0.1",
               extra=["Content-Type: application/sdp"],
               clen=str(len(SDP)), body=SDP)
    yield "truncated_request", full[:90]
    yield "no_callid", std(skip=("callid",))
    yield "no_cseq", std(skip=("cseq",))
    yield "no_via", std(skip=("via",))
    yield "no_from", std("REGISTER", skip=("from",))
    yield "bad_cseq_number", std(cseq="99999999999999999999 OPTIONS")
    yield "bad_cseq_text", std("REGISTER", cseq="abc REGISTER")
    yield "cseq_method_mismatch", std("REGISTER", cseq="1 INVITE")
    yield "clen_larger_than_body", std(
        "INVITE", "sip:101@127.0.0.1",
        extra=["Content-Type: application/sdp"], clen="5000", body=SDP)
    yield "clen_negative", std(
        "INVITE", "sip:101@127.0.0.1",
        extra=["Content-Type: application/sdp"], clen="-5", body=SDP)
    yield "clen_huge", std(
        "INVITE", "sip:101@127.0.0.1",
        extra=["Content-Type: application/sdp"], clen="4294967297",
        body=SDP)
    yield "binary_junk", bytes(rnd.getrandbits(8) for _ in range(1400))
    # 64 KiB does not fit a UDP datagram: the test sends it over TCP
    yield "long_header_64k", std(extra=["X-Long: " + "a" * 65536])
    yield "long_header_60k", std(extra=["Subject: " + "b" * 60000])
    vias = ["Via: SIP/2.0/UDP 10.%d.%d.1:5060;branch=z9hG4bKv%d" %
            (i // 250, i % 250, i) for i in range(200)]
    yield "via_200", std(extra=vias)
    nul = bytearray(std("REGISTER"))
    nul[40:40] = b"\x00\x00Call-ID: x\x00"
    yield "nul_bytes", bytes(nul)
    yield "invite_no_from_tag", std(
        "INVITE", "sip:101@127.0.0.1", from_tag="",
        extra=["Content-Type: application/sdp"], clen=str(len(SDP)),
        body=SDP)
    yield "non_sip_text", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    yield "empty", b""
    yield "bad_request_line", msg(["INVITE  SIP/2.0 sip:101@127.0.0.1",
                                   "Via: SIP/2.0/UDP 127.0.0.1:5999;"
                                   "branch=z9hG4bKmal2;rport",
                                   "Content-Length: 0"])
    yield "bad_sip_version", std().replace(b"SIP/2.0\r\n", b"SIP/7.1\r\n",
                                           1)
    yield "expires_overflow", std(
        "REGISTER", extra=["Contact: <sip:100@127.0.0.1:5999>",
                           "Expires: 99999999999999999999"])
    yield "contact_garbage", std(
        "REGISTER", extra=["Contact: <sip:@@@;;;>;expires=abc",
                           "Contact: \"unterminated <sip:1"])
    yield "auth_garbage", std(
        "REGISTER", extra=["Contact: <sip:100@127.0.0.1:5999>",
                           "Authorization: Digest username=\"100, realm=,"
                           " nonce=\"\", response=\"zz\", algorithm=ROT13,"
                           " nc=zzzzzzzzzzz, qop=\"auth"])
    yield "max_forwards_bad", std(
        "INVITE", "sip:101@127.0.0.1", skip=("mf",),
        extra=["Max-Forwards: -1"])
    bad_sdp = b"v=0\r\nm=audio 99999999 RTP/AVP x\r\nc=IN IP4\r\n"
    yield "sdp_garbage", std(
        "INVITE", "sip:101@127.0.0.1",
        extra=["Content-Type: application/sdp"], clen=str(len(bad_sdp)),
        body=bad_sdp)
    yield "header_no_colon", std(extra=["ThisHeaderHasNoColon"])
    yield "folded_headers_only", b"\r\n \r\n\t\r\n\r\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".sip"):
            os.unlink(os.path.join(OUT, name))
    n = 0
    for name, data in files():
        with open(os.path.join(OUT, name + ".sip"), "wb") as f:
            f.write(data)
        n += 1
    print("wrote %d files to %s" % (n, os.path.normpath(OUT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
