#!/usr/bin/env bash
# Runs ON the lent GPU machine, in the repository root, after pack.py's two carries arrived:
#   call 1: carry [".gpu-a"], command `ls -la .gpu-a`            (first half of the base model)
#   call 2: carry [".gpu-b"], command `bash scripts/gpu/train.sh` (second half, data; trains + evaluates)
# Writes under $OUT (what comes back): adapter/ (4 files), train.log, eval.json, eval.txt.
# Training ends by a deadline: CALL_SECONDS (570: the call's 600 s less a margin) after this script
# started, less EVAL_RESERVE (90 s) for the evaluation, whatever data preparation took.
# TRAIN_SECONDS overrides the config's time budget, TRAIN_CONFIG the config; DEVICE=cpu runs the same
# path here (dry run; batch 32 x 512 tokens through 24 adapted layers needs more than 24 GiB of RAM, so
# a dry run here uses a config with smaller batches).
set -euo pipefail
export PYTHONUNBUFFERED=1 PYTHONUTF8=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:?set OUT to the folder that comes back}
DEVICE=${DEVICE:-cuda}
WORK=${WORK:-/tmp/manyskills-gpu}
started=$(date +%s)
deadline=$(( started + ${CALL_SECONDS:-570} - ${EVAL_RESERVE:-90} ))
say() { echo "[$(( $(date +%s) - started ))s] $*"; }

mkdir -p "$WORK" "$OUT"
say "assembling the base model"
cat .gpu-a/base.part1 .gpu-b/base.part2 > "$WORK/base.gguf"
export PYTHONPATH="$PWD/server:$PWD/.gpu-a/site${PYTHONPATH:+:$PYTHONPATH}"
export MANYSKILLS_CACHE_DIR="$WORK/cache" MANYSKILLS_BASE_GGUF="$WORK/base.gguf"
python3 - "$WORK/dataset" <<'PY'
import lzma, sys
from pathlib import Path
dest = Path(sys.argv[1]); dest.mkdir(parents=True, exist_ok=True)
for f in sorted(Path(".gpu-b/dataset").glob("*.jsonl.xz")):
    (dest / f.name[:-3]).write_bytes(lzma.decompress(f.read_bytes()))
print("dataset:", ", ".join(f"{p.name} {p.stat().st_size >> 20} MiB" for p in sorted(dest.iterdir())))
PY
python3 -c "import torch, transformers, peft; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'peft', peft.__version__)"

say "training"
status=0
python3 -m manyskills train --config "${TRAIN_CONFIG:-models/train-config-gpu.json}" --dataset "$WORK/dataset" \
    --out "$OUT/adapter" --device "$DEVICE" --deadline "$deadline" ${TRAIN_SECONDS:+--time-budget "$TRAIN_SECONDS"} \
    ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train.log" || status=$?
if [ "$status" != 0 ]; then
    say "training failed (exit $status)"
    # A checkpoint (every checkpoint_every steps) is still worth evaluating; without one, stop here.
    [ -f "$OUT/adapter/manyskills.json" ] || exit "$status"
fi

rm -f "$OUT/adapter/README.md"  # peft's boilerplate card: at most 8 files come back from a call
say "evaluating"
python3 -m manyskills eval --adapter "$OUT/adapter" --dataset "$WORK/dataset" --quixbugs .gpu-b/quixbugs.jsonl \
    --skills defect,search,flaky --no-baselines --device "$DEVICE" \
    --limits '{"defect": 600, "search": 500, "clone": 400, "flaky": 400, "repair": 0}' \
    ${EVAL_ARGS:-} --json "$OUT/eval.json" 2>&1 | tee "$OUT/eval.txt"
say "done"
exit "$status"
