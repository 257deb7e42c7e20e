#!/usr/bin/env bash
# One unguided ablation seed on the shipped inpainter's own step schedule, on CPU, phase by
# phase, resumable across sessions (docs/history.md, "Session 17").
#
# The shipped guided model (C2) is 17,078 steps at batch 8 in four phases; the ablation gets
# the same steps, data and losses, without landmark channels or gender FiLM:
#   1. data/utk256 (leaky crops), 6,192 steps, adversarial from step 600, holes not grown;
#   2. resumed to 8,661 steps with the detail-energy term (w_energy 0.15) and grown holes;
#   3. resumed to 11,161 steps (C2's third phase changed only its conditioning);
#   4. promoted (fp16) and fine-tuned on leak-free crops (data/pack128m) for 5,917 steps with a
#      fresh discriminator, as run 00007 was (lr 1e-4, adversarial from step 0, w_energy 1.0).
# Each call continues where the last stopped. STOP_AT (HH:MM, today) sends SIGTERM then; the
# trainer saves a checkpoint and the next call resumes from it. Weights: data/$TAG.
#
#   SEED=0 STOP_AT=12:40 bash research/ablation_chain.sh
# For a dry run: P1..P4 (the phases' end steps), DATA1 / DATA4 (datasets), EXTRA (options
# added to every training call, e.g. tiny widths), RUNS (runs folder), OUTDIR (weights).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
SEED=${SEED:-0}
TAG=${TAG:-s17-ablate$SEED}
U=${UNMASK:-.venv/bin/unmask}
PY=${PYTHON:-.venv/bin/python}
STOP_AT=${STOP_AT:-}
P1=${P1:-6192} P2=${P2:-8661} P3=${P3:-11161} P4=${P4:-5917}
DATA1=${DATA1:-data/utk256} DATA4=${DATA4:-data/pack128m}
RUNS=${RUNS:-runs} OUTDIR=${OUTDIR:-data} EXTRA=${EXTRA:-}

left() {  # seconds until STOP_AT (a large number without it)
  if [ -z "$STOP_AT" ]; then echo 999999; return; fi
  echo $(( $(date -d "$STOP_AT" +%s) - $(date +%s) ))
}

step_of() {  # last checkpointed step of run folder $1 (0 if none)
  "$PY" -c "import sys; from unmask.training.runs import Run
c = Run(sys.argv[1]).load_checkpoint(); print(0 if c is None else c['step'])" "$1"
}

run_of() { ls -d "$RUNS"/*-inpainter-"$1" 2>/dev/null | tail -1 || true; }

train() {  # train with a deadline; returns 1 when the deadline stopped it
  local secs
  secs=$(left)
  if [ "$secs" -lt 120 ]; then echo "deadline reached"; return 1; fi
  echo "+ unmask -v train inpainter $*"
  # --foreground: the signal goes to the trainer only, not to its DataLoader workers
  # shellcheck disable=SC2086
  timeout --foreground -k 600 -s TERM "$secs" "$U" -v train inpainter "$@" $EXTRA || [ $? -eq 124 ]
  [ "$(left)" -gt 0 ] || { echo "stopped at the deadline; call again to resume"; return 1; }
}

mkdir -p "$RUNS"
exec 9> "$RUNS/.chain-$TAG.lock"  # one chain per seed: two trainers on one run folder clash
flock -n 9 || { echo "another chain is training $TAG"; exit 1; }
A=$(run_of "$TAG")
if [ -z "$A" ]; then
  train --dataset "$DATA1" --set attr_weights=src/unmask/weights --set steps="$P1" \
    --set adv_start=600 --set hole_margin=0 --set guidance=false --set seed="$SEED" \
    --set tag="$TAG" --set runs="$RUNS" || exit 0
  A=$(run_of "$TAG")
fi
s=$(step_of "$A")
if [ "$s" -lt "$P1" ]; then train --resume "$A" || exit 0; s=$(step_of "$A"); fi
if [ "$s" -lt "$P2" ]; then
  train --resume "$A" --set steps="$P2" --set w_energy=0.15 --set hole_margin=0.015 || exit 0
  s=$(step_of "$A")
fi
if [ "$s" -lt "$P3" ]; then train --resume "$A" --set steps="$P3" || exit 0; fi
[ -e "$OUTDIR/$TAG-p3/inpainter.json" ] ||
  "$U" train promote "$A" --out "$OUTDIR/$TAG-p3" --checkpoint last --fp16

B=$(run_of "$TAG-leakfree")
if [ -z "$B" ]; then
  train --dataset "$DATA4" --set init_weights="$OUTDIR/$TAG-p3" --set runs="$RUNS" \
    --set attr_weights=src/unmask/weights --set guidance=false --set lr_g=1e-4 \
    --set lr_d=1e-4 --set adv_start=0 --set predicted_prob=1.0 --set w_energy=1.0 \
    --set steps="$P4" --set seed="$SEED" --set tag="$TAG-leakfree" || exit 0
  B=$(run_of "$TAG-leakfree")
elif [ "$(step_of "$B")" -lt "$P4" ]; then
  train --resume "$B" || exit 0
fi
[ -e "$OUTDIR/$TAG/inpainter.json" ] ||
  "$U" train promote "$B" --out "$OUTDIR/$TAG" --checkpoint last --fp16
echo "done: $OUTDIR/$TAG"
