#!/usr/bin/env bash
#
# bench/media.sh [BUILD_DIR]: CPU of the media relay per concurrent call
#
#   plain relay, G.722 <-> PCMA and G.729 <-> PCMA transcoding, SRTP
#   (AES_CM_128_HMAC_SHA1_80) on one leg; N calls with 20 ms packets both
#   ways, measured with 1 and with 2 relay threads
#
# relay_bench (bench/relay_bench.c) runs the relay of relaiscore in its own
# process and the load generator in a child, so its CPU time is the relay's
# alone; see the comment at the top of relay_bench.c. Loopback only; the
# figures are printed, nothing is asserted. About 110 s with the defaults.
#
# Knobs: BENCH_MEDIA_CALLS (100), BENCH_MEDIA_SECONDS (10 per case),
# BENCH_MEDIA_THREADS ("1 2"), BENCH_MEDIA_PORT (40000, first relay port).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$BENCH_DIR/.." && pwd)}
BUILD_DIR=${1:-${BUILD_DIR:-$SRC_DIR/build}}
case "$BUILD_DIR" in
/*) ;;
*) BUILD_DIR="$SRC_DIR/$BUILD_DIR" ;;
esac

CALLS=${BENCH_MEDIA_CALLS:-100}
SECS=${BENCH_MEDIA_SECONDS:-10}
THREADS=${BENCH_MEDIA_THREADS:-1 2}
PORT=${BENCH_MEDIA_PORT:-40000}

BIN="$BUILD_DIR/bench/relay_bench"
if [ ! -x "$BIN" ]; then
	echo "media.sh: $BIN missing; build it with:" \
		"cmake --build $BUILD_DIR --target relay_bench" >&2
	exit 1
fi

args=(-n "$CALLS" -d "$SECS" -p "$PORT")
runs=0
for t in $THREADS; do
	args+=(-t "$t")
	runs=$((runs + 4))
done

# relay_bench bounds every wait itself; this is the outer limit
limit=$((runs * (SECS + 10) + 60))

echo "==== media relay bench ($(nproc) cores)"
timeout --signal=TERM --kill-after=10 "$limit" "$BIN" "${args[@]}"
