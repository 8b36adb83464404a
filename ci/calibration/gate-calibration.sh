#!/usr/bin/env bash
# Measures the regression gate on real runs against the embedded emulator:
# PAIRS pairs of identical runs (false regressions) and PAIRS pairs whose
# second run has LATENCY added to every answer by the emulator's fault
# injection (detections), compared with the CI templates' own flags.
# Not part of `make test`: it takes PAIRS × 3 runs of PLAN (smoke ≈ 20 s).
#
#   make gate-calibration                       # 5 pairs of smoke runs
#   PAIRS=10 PLAN=baseline LATENCY=2ms make gate-calibration
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=${PAIRS:-5}
PLAN=${PLAN:-smoke}
LATENCY=${LATENCY:-3ms}
FLAGS=${FLAGS:---latency-tolerance 0.2 --min-latency 1ms}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/ciamcheck" ./cmd/ciamcheck
cat >"$work/slow-tenant.yaml" <<YAML
faults:
  endpoints:
    "*": {latency: "$LATENCY"}
YAML
printf 'kind: emulator\nemulator_config: slow-tenant.yaml\n' >"$work/slow.yaml"

run() { # run NAME [--target PROFILE]
	local name=$1; shift
	if ! "$work/ciamcheck" load --plan "$PLAN" -q --out "$work/$name.json" "$@" >"$work/$name.log" 2>&1; then
		echo "gate-calibration: run $name did not pass (see below); its figures are still compared" >&2
		tail -5 "$work/$name.log" >&2
	fi
}
compare() { # compare NEW OLD → prints REGRESSED or ok; exit 2 aborts
	local status=0
	"$work/ciamcheck" report "$work/$1.json" --compare "$work/$2.json" --fail-on-regression $FLAGS >"$work/cmp-$1.txt" 2>&1 || status=$?
	case $status in
	0) echo ok ;;
	1) echo REGRESSED ;;
	*) echo "gate-calibration: report could not compare $1 with $2 (exit $status)" >&2; cat "$work/cmp-$1.txt" >&2; exit 2 ;;
	esac
}

false_regressions=0 detected=0
for i in $(seq 1 "$PAIRS"); do
	run "a$i"; run "b$i"; run "slow$i" --target "$work/slow.yaml"
	same=$(compare "b$i" "a$i"); slow=$(compare "slow$i" "a$i")
	[ "$same" = REGRESSED ] && false_regressions=$((false_regressions + 1)) && grep -h 'REGRESSED' "$work/cmp-b$i.txt" | head -3
	[ "$slow" = REGRESSED ] && detected=$((detected + 1))
	echo "pair $i: identical runs $same; +$LATENCY per answer $slow"
done
echo "gate-calibration ($PLAN, $PAIRS pairs, flags: $FLAGS): false regressions $false_regressions/$PAIRS, +$LATENCY per answer detected $detected/$PAIRS"
