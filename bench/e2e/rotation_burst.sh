#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A burst that crosses a segment rotation: `sluice serve --rotation 1m` on loopback, and
# sluice-blast sending PROTOCOL at RATE flows/s for 10 s from second 55 of a minute, so
# that the writer seals one segment and opens the next in the middle of it. Prints the
# flows sent and stored (the store counters of --stats-file) and the segments written.
#
#   bench/e2e/rotation_burst.sh [PROTOCOL [RATE [BUILD_DIR]]]   (v9, 4000000, build/release)
set -euo pipefail
protocol=${1:-v9}
rate=${2:-4000000}
build=${3:-build/release}
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-rotation-burst.XXXXXX")
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$build/apps/sluice/sluice" serve --http off --listen "127.0.0.1:$port" --rcvbuf 64M \
  --stats-interval 0 --stats-file "$work/stats.json" --ready-file "$work/ready" \
  --data "$work/data" --writer-threads 1 --rotation 1m > "$work/serve.log" 2>&1 &
serve=$!
while [ ! -s "$work/ready" ]; do sleep 0.1; done
while [ "$(date +%S)" != "54" ]; do sleep 0.2; done
sleep 0.5
"$build/tools/flowblast/sluice-blast" --to "127.0.0.1:$port" --protocol "$protocol" \
  --rate "$rate" --duration 10 --exporters 4 --seed 1 --json > "$work/blast.json"
sleep 2
kill -TERM "$serve"
wait "$serve"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
sent = json.load(open(f"{work}/blast.json"))["flows"]
stored = json.load(open(f"{work}/stats.json"))["store"]["flows_written"]
print(f"sent {sent} stored {stored} lost {100 * (1 - stored / sent):.3f} %")
PY
find "$work/data" -name '*.seg' -path '*/default/*' -not -path '*/rollup/*' | sort | sed "s|$work/data/||"
