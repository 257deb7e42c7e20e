#!/usr/bin/env bash
# One device call that trains the #6 triple on one GPU: the guided inpainter and two seeds of
# the unguided ablation, from scratch, with the same recipe and the same wall-clock budget, side
# by side. Phase A (75 % of the minutes) conditions half the samples on predicted landmarks and
# gender, phase B (the rest) all of them, as in the shipped model's last phase. Each run is
# promoted (fp16); weights, configs, metrics and sample grids come back in $OUT/<run>.tgz.
#
# Before the call, here (leak-free crops with inside/ maps, since session 16):
#   unmask data pack data/utk256m2 data/pack128m2 --variants 0
#   tar czf data/pack128m2.tgz -C data pack128m2               (one file: the device tool refused
#                                                              a pack folder as over 64 MiB)
#   tools/device/tree.sh hide
# The call: run(command="bash tools/device/inpainters.sh", carry=["data/pack128m2.tgz"], timeout_s=600)
# After it: tools/device/tree.sh restore; mkdir -p data/gpu && for f in FILES_AT/*.tgz; do tar xzf $f -C data/gpu; done
# Then evaluate here (docs/eval_inpainter.md). Session 13, one H200, 16 cores, batch 32, three
# runs side by side: about 6.3 steps/s for the guided run, 7.6 for each ablation.
#
# Environment knobs: MINUTES (whole budget per run, default 7), BATCH (32), WORKERS (loader
# processes per run, 3), DATA (data/pack128m2), EXTRA (further `--set k=v` options given to the
# three runs of the triple), CONTROL=1 (a fourth run: the guided model without EXTRA, to tell
# what EXTRA changed), SMOKE=1 (tiny networks, for a CPU dry run of this script).
# $OUT holds at most 8 files that come back: device.txt, one <run>.tgz per run (its log inside);
# the logs stay in $OUT/logs only when the call is cut short.
set -u
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1
OUT=${OUT:-out/device}
mkdir -p "$OUT"
DATA=${DATA:-data/pack128m2}
[ -d "$DATA" ] || [ ! -f "$DATA.tgz" ] || tar xzf "$DATA.tgz" -C "$(dirname "$DATA")"
MIN=${MINUTES:-7}
BATCH=${BATCH:-32}
RUNS=runs-device
unmask() { python3 -c 'from unmask.cli.main import main; main()' "$@"; }
common="--dataset $DATA --set batch=$BATCH --set workers=${WORKERS:-3} --set threads=2 --set runs=$RUNS"
common="$common --set attr_weights=src/unmask/weights --set w_energy=0.15 --set adv_start=600"
common="$common --set steps=10000000 --set eval_every=1000"
extra=${EXTRA:-}
mkdir -p "$OUT/logs"
[ "${SMOKE:-0}" = 1 ] && common="$common --set widths=[4,8,8,8] --set d_widths=[4,8,8,8] --set workers=0 --set threads=1 --set val_samples=8"
phase_a=$(python3 -c "print(round($MIN * 0.75, 3))")
one() {  # tag, then options of that run
    local tag=$1
    shift
    unmask -v train inpainter $common --set minutes="$phase_a" --set tag="$tag" "$@" >"$OUT/logs/$tag.log" 2>&1 || return
    unmask -v train inpainter --resume "$(ls -d $RUNS/*-"$tag" | tail -1)" --set minutes="$MIN" \
        --set predicted_prob=1.0 >>"$OUT/logs/$tag.log" 2>&1
}
(nvidia-smi -L || true) >"$OUT/device.txt" 2>&1
# shellcheck disable=SC2086  # $extra holds several options
one guided --set seed=0 $extra &
one ablation-s0 --set guidance=false --set seed=0 $extra &
one ablation-s1 --set guidance=false --set seed=1 $extra &
[ "${CONTROL:-0}" = 1 ] && one control --set seed=0 &
wait
pack() {  # run folder -> $OUT/<tag>.tgz (fp16 weights, config, metrics, last sample grid, log)
    local run=$1 name=${1##*-inpainter-}
    unmask train promote "$run" --out "weights-device/$name" --checkpoint last --fp16 >"$OUT/logs/promote-$name.txt" 2>&1
    local last
    last=$(ls "$run"/samples | tail -1)  # one grid each (16 MiB at most per file)
    tar czf "$OUT/$name.tgz" "weights-device/$name" "$run/config.json" "$run/metrics.jsonl" \
        ${last:+"$run/samples/$last"} -C "$OUT/logs" "$name.log" "promote-$name.txt" &&
        rm "$OUT/logs/$name.log" "$OUT/logs/promote-$name.txt"
}
for run in "$RUNS"/*; do pack "$run" & done
wait
rmdir "$OUT/logs" 2>/dev/null
ls -la "$OUT" >>"$OUT/device.txt"
