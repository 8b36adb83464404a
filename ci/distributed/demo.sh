#!/usr/bin/env bash
# make distributed-demo: one emulator on loopback; the plan split into
# SEGMENTS processes that begin together (--start-at) and merged into one
# record; then the same plan run by a single process. Prints both verdicts
# and the comparison of the two records. Exit status: the merged verdict's.
set -euo pipefail
cd "$(dirname "$0")/../.."
SEGMENTS=${SEGMENTS:-4}
PLAN=${PLAN:-ci/plans/distributed-demo.yaml}
OUT=${OUT:-demo/distributed}
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT/profile.yaml"
go build -o "$OUT/ciamcheck" ./cmd/ciamcheck
bin=$OUT/ciamcheck

"$bin" emulator --addr 127.0.0.1:0 --write-profile "$OUT/profile.yaml" >"$OUT/emulator.log" 2>&1 &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/profile.yaml" ] && break; sleep 0.1; done
[ -s "$OUT/profile.yaml" ] || { echo "distributed-demo: the emulator did not start:" >&2; cat "$OUT/emulator.log" >&2; exit 2; }

# Every segment sets up its users first; all begin at one instant after.
start=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
echo "distributed-demo: $SEGMENTS segments of $PLAN, starting at $start"
pids=()
for i in $(seq 1 "$SEGMENTS"); do
	"$bin" load --target "$OUT/profile.yaml" --plan "$PLAN" --segment "$i/$SEGMENTS" --start-at "$start" \
		--quiet --out "$OUT/segment-$i.json" >"$OUT/segment-$i.log" 2>&1 &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	# A segment judges only its own measurement (abort, checks); the plan's
	# thresholds are judged on the merged record below.
	wait "${pids[$i]}" || echo "distributed-demo: segment $((i + 1)) exited $? (see $OUT/segment-$((i + 1)).log)" >&2
done

echo
echo "=== merged: $SEGMENTS segments ==="
merged=0
"$bin" report merge "$OUT"/segment-*.json --out "$OUT/merged.json" || merged=$?

echo
echo "=== single process, same plan ==="
"$bin" load --target "$OUT/profile.yaml" --plan "$PLAN" --quiet --out "$OUT/single.json" >"$OUT/single.log" 2>&1 || true
sed -n '/^thresholds/,$p' "$OUT/single.log"

echo
echo "=== merged (new) against single (previous) ==="
"$bin" report "$OUT/merged.json" --compare "$OUT/single.json" | sed -n '/^comparison/,$p' || true
echo
echo "distributed-demo: records in $OUT/ (merged verdict exit $merged)"
exit "$merged"
