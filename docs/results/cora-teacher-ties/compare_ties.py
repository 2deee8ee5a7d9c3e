"""Seven teachers on Cora, teacher selection by the last vs the first of tied best validation epochs (issue 13).

usage: python3 compare_ties.py LAST.json FIRST.json [NEW_LABEL OLD_LABEL]
Both files are CoraDistillation --json outputs of the same teachers and seeds, one run with --teacher-ties last and one
with --teacher-ties first. Prints one row per teacher: test accuracy (mean ± std over seeds) of the teacher and both CPF
students under each rule, and the paired difference last - first (mean ± std, and on how many seeds it is > 0 / < 0).
Any two such runs compare the same way (e.g. before and after a code change): NEW_LABEL / OLD_LABEL name the columns
(default "last" / "first").
"""
import json
import statistics
import sys


def load(path):
    return {(r["Teacher"], r["Model"], r["Seed"]): 100 * r["Test"] for r in json.load(open(path))}


last, first = load(sys.argv[1]), load(sys.argv[2])
new, old = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("last", "first")
teachers = list(dict.fromkeys(k[0] for k in last))
m = lambda v: f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
print(f"| teacher | model | {old}: test | {new}: test | {new} - {old} (paired) | seeds up / down |")
print("|---|---|---|---|---|---|")
summary = {}
for t in teachers:
    for model in ("teacher", "CPF-ind", "CPF-tra"):
        keys = sorted(k for k in last if k[0] == t and k[1] == model and k in first)
        if not keys:
            continue
        a, b = [first[k] for k in keys], [last[k] for k in keys]
        d = [y - x for x, y in zip(a, b)]
        summary.setdefault(model, []).extend(d)
        print(f"| {t} | {model} | {m(a)} | {m(b)} | {statistics.mean(d):+.2f} ± {statistics.stdev(d) if len(d) > 1 else 0:.2f} | "
              f"{sum(x > 0 for x in d)} / {sum(x < 0 for x in d)} |")
print()
for model, d in summary.items():
    print(f"{model}: all teachers and seeds, {new} - {old} {statistics.mean(d):+.2f} ± {statistics.stdev(d):.2f} "
          f"(n = {len(d)}; up {sum(x > 0 for x in d)}, down {sum(x < 0 for x in d)}, equal {sum(x == 0 for x in d)})")
