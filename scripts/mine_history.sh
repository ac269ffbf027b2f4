#!/bin/bash
# Mine every repository of the history manifest (server/manyskills/data/history_repos.json) with
# `manyskills data history`, one output per repository, smallest histories first; resumable (skips the
# repositories already mined). Mirrors are bare git dirs brought by a session's `fetch` tool
# (/work/.mirror/<owner>+<name>/repo); a missing mirror is skipped and listed. What is mined is packed
# into data/mined/ (committed, ~20 KB a repository) so a fresh machine starts from it:
#   bash scripts/mine_history.sh        # mine what is missing, then pack
cd "$(dirname "$0")/.."
mkdir -p data-cache/mined data/mined
for gz in data/mined/*.jsonl.gz; do  # start from what earlier sessions committed
  [ -e "$gz" ] || continue
  name=$(basename "$gz" .jsonl.gz)
  [ -s "data-cache/mined/$name.stats.json" ] || { gunzip -c "$gz" > "data-cache/mined/$name.jsonl"; cp "data/mined/$name.stats.json" data-cache/mined/; }
done
MINE_FIRST="${MINE_FIRST:-}" python3 - <<'PY' > data-cache/mine_list.txt
import json
import itertools
import os
repos = json.load(open("server/manyskills/data/history_repos.json"))["repos"]
# smallest histories first, languages interleaved: the most repositories (and languages) per hour;
# MINE_FIRST="Python,Java" mines those languages' repositories before the others (same order inside)
first = [x.strip() for x in os.environ["MINE_FIRST"].split(",") if x.strip()]
by_lang = {}
for r in sorted(repos, key=lambda r: r["commits"]):
    by_lang.setdefault(r["language"], []).append(r)
ahead = [by_lang.pop(lang, []) for lang in first]
for group in (ahead, list(by_lang.values())):
    for r in (x for g in itertools.zip_longest(*group) for x in g if x):
        print(r["repo"], r["mirror"], r["licence"].replace(" ", "_"))
PY
while read repo mirror lic; do
  out=data-cache/mined/${repo/\//+}.jsonl
  [ -s "$out.stats.json" ] || [ -s "${out%.jsonl}.stats.json" ] && continue
  [ -d "$mirror" ] || { echo "missing $mirror"; continue; }
  start=$(date +%s)
  nice -n 5 .venv/bin/python -m manyskills data history --repo "$mirror" --repo-name "$repo" --licence "${lic//_/ }" --out "$out" > /dev/null 2>> data-cache/mine-errors.log
  echo "$repo rc=$? $(( $(date +%s) - start ))s $(wc -l < $out 2>/dev/null)"
done < data-cache/mine_list.txt
for stats in data-cache/mined/*.stats.json; do  # pack every finished repository
  name=$(basename "$stats" .stats.json)
  [ -s "data/mined/$name.stats.json" ] && continue
  gzip -9 -c "data-cache/mined/$name.jsonl" > "data/mined/$name.jsonl.gz" && cp "$stats" data/mined/
done
echo ALLDONE
