"""Markdown table of a pytest-benchmark JSON file: median seconds per entry, per group, and
each entry's ratio to our entry of the group (>1: slower than ours).

    python benchmarks/summarize.py results.json
"""

import json
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        report = json.load(f)
    groups = defaultdict(list)
    for b in report["benchmarks"]:
        groups[b["group"]].append((b["name"], b["stats"]["median"], b["stats"]["rounds"],
                                   b.get("extra_info", {})))
    info = report["machine_info"]
    print(f"Machine: {info.get('cpu', {}).get('brand_raw', '?')}, {info.get('cpu_count')} cores, "
          f"{info.get('transfer_threads')} OpenMP threads; {report['datetime'][:10]}\n")
    print("| group | implementation | median s | rounds | x ours | extra |")
    print("|---|---|---:|---:|---:|---|")

    def order(group):
        tail = group.rsplit("-", 1)[-1]
        return (0, int(tail), group) if tail.isdigit() else (1, 0, group)

    for group in sorted(groups, key=order):
        rows = sorted(groups[group], key=lambda r: r[1])
        ours = [m for n, m, _, _ in rows if n.startswith("transfer")]
        base = min(ours) if ours else None
        for name, median, rounds, extra in rows:
            ratio = f"{median / base:.1f}" if base else "-"
            notes = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in extra.items())
            print(f"| {group} | {name} | {median:.4f} | {rounds} | {ratio} | {notes} |")


if __name__ == "__main__":
    main(sys.argv[1])
