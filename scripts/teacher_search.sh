#!/bin/bash
# The search behind the shipped teacher recipe (issue #10). It ran on a lent H100 as
#   STEPS=1200 BUDGET=260 bash scripts/teacher_search.sh mae hyb nce hyb300 hyb_big
# (each config trains for a 260 s wall-clock budget, about 440 steps, then probes); results in figures/teacher_search.json.
# usage: bash scripts/teacher_search.sh CONFIG...   (on a GPU machine; .whl/ holds an fpsample wheel for its Python)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
export FOUNDRY_CACHE=/tmp/fcache PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "
from foundry_nb.data import generate_shapes
for s,n in (('train',80),('train',300),('test',50)): generate_shapes(s,n,2048,0)
print('data ready')"
mkdir -p /tmp/res
for c in "$@"; do timeout ${TMO:-540} python3 scripts/teacher_search.py $c /tmp/res > /tmp/res/$c.log 2>&1 & done
wait
grep -h "pre\|rnd\|step" /tmp/res/*.log | grep -v Warn | tail -n 60
cd /tmp/res && tar czf $OUT/res.tgz *.json *.log && ls -la $OUT
