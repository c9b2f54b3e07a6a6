"""Duplicate detection benchmark: Junction against Splink and recordlinkage, accuracy and scale.

    bench/.venv/bin/python bench/dedupe.py                 # everything (about 10 minutes on 2 cores)
    bench/.venv/bin/python bench/dedupe.py --only febrl1   # one data set, all tools

Each (tool, data set) runs in its own process, so its wall time and peak
resident memory are its own; times cover matching only (blocking, training
where the tool trains, scoring), not loading or Junction's cleansing, which
every tool's input went through once beforehand and which is timed apart.
Results are written to bench/results/ (git-ignored) and printed as tables.
"""

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path[:0] = [str(BENCH), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
# Production settings require a Fernet key; the benchmark encrypts nothing (base64 of 32 plain bytes).
os.environ.setdefault("JUNCTION_ENCRYPTION_KEYS", "YmVuY2gtb25seS1ub3QtYS1zZWNyZXQtMzItYnl0ZXM=")
os.environ.setdefault("JUNCTION_VAR_DIR", str(RESULTS / "var"))

ACCURACY_SETS = ["synthetic-25k", "febrl1", "febrl2", "febrl3", "febrl4"]
SCALE_SETS = ["synthetic-25k", "synthetic-50k", "synthetic-100k"]
TOOLS = ["junction", "splink", "recordlinkage"]


def setup_django():
    import django

    django.setup()


def load(name: str):
    """The data set and its cleaned rows, cleansing once and caching in bench/results/."""
    cache = RESULTS / f"{name}.pickle"
    if cache.exists():
        with open(cache, "rb") as handle:
            return pickle.load(handle)
    import datasets

    from masterdata.matching.csvfile import cleanse_rows

    dataset = datasets.febrl(int(name[-1])) if name.startswith("febrl") else datasets.synthetic(_size(name))
    started = time.perf_counter()
    cleaned, _ = cleanse_rows("customer", dataset.rows, locales=dataset.locales)
    dataset.cleanse_seconds = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    with open(cache, "wb") as handle:
        pickle.dump((dataset, cleaned), handle)
    return dataset, cleaned


def _size(name: str) -> int:
    return int(name.split("-")[1].rstrip("k")) * 1000


def child(tool: str, name: str) -> None:
    """Run one tool on one data set in this process and write its result file."""
    setup_django()
    import tools

    dataset, cleaned = load(name)
    started = time.perf_counter()
    pairs = run_command(dataset) if tool == "command" else getattr(tools, tool)(dataset, cleaned)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = {"tool": tool, "dataset": name, "seconds": seconds}
    out.update(peak_mb=peak_kb / 1024, workers_mb=workers_kb / 1024)
    out["pairs"] = [[a, b, *(v if isinstance(v, tuple) else (v,))] for (a, b), v in pairs.items()]
    (RESULTS / f"{tool}-{name}.json").write_text(json.dumps(out))


def run_command(dataset) -> dict:
    """The whole find_duplicates command (reading the CSV, cleansing on both cores, matching, writing)."""
    import csv
    import io

    from django.core.management import call_command

    path = RESULTS / f"{dataset.name}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dataset.rows[0]))
        writer.writeheader()
        writer.writerows(dataset.rows)
    out = io.StringIO()
    call_command("find_duplicates", "--entity", "customer", "--csv", str(path), "--locale", "en_US", stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    return {(a, b) if a < b else (b, a): (float(s), d) for a, b, s, d in rows}


def run(tool: str, name: str) -> dict:
    subprocess.run([sys.executable, __file__, "--child", tool, name], check=True)
    return json.loads((RESULTS / f"{tool}-{name}.json").read_text())


def metrics(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(predicted)}


def best_threshold(scored: dict, truth: set) -> dict:
    """The F1 a tool reaches at its best threshold, found with the ground truth (an upper bound, not a setting)."""
    ordered = sorted(scored.items(), key=lambda kv: -kv[1])
    tp, best = 0, {"f1": 0.0, "threshold": None}
    for rank, (p, score) in enumerate(ordered, start=1):
        tp += p in truth
        f1 = 2 * tp / (rank + len(truth))
        if f1 > best["f1"]:
            best = {"f1": f1, "threshold": score}
    return best


def evaluate(result: dict, truth: set) -> dict:
    rows = result["pairs"]
    scored = {(r[0], r[1]): r[2] for r in rows}
    out = {"seconds": result["seconds"], "peak_mb": result["peak_mb"], "workers_mb": result["workers_mb"]}
    if result["tool"] in ("junction", "command"):
        out["main"] = metrics(set(scored), truth)  # every pair it reports: link or review
        out["link"] = metrics({(r[0], r[1]) for r in rows if r[3] == "link"}, truth)
    else:
        out["main"] = metrics({p for p, s in scored.items() if s >= 0.5}, truth)
        out["best"] = best_threshold(scored, truth)
    return out


def table(summary: dict) -> str:
    lines = [
        "| data set | records | true pairs | tool | precision | recall | F1 | auto-link precision (recall) "
        "| best-threshold F1 | time s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in summary.items():
        for tool, m in entry["tools"].items():
            main, link, best = m["main"], m.get("link"), m.get("best")
            link_text = f"{link['precision']:.4f} ({link['recall']:.3f})" if link else ""
            best_text = f"{best['f1']:.4f} at {best['threshold']:.2f}" if best and best["threshold"] else ""
            lines.append(
                f"| {name} | {entry['records']} | {entry['true_pairs']} | {tool} | {main['precision']:.4f} "
                f"| {main['recall']:.4f} | **{main['f1']:.4f}** | {link_text} | {best_text} | {m['seconds']:.1f} "
                f"| {m['peak_mb']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "DATASET"), help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", help="data sets to run (default: all)")
    parser.add_argument("--tools", nargs="*", default=TOOLS, help="tools to run (default: all three)")
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    setup_django()
    names = args.only or list(dict.fromkeys(ACCURACY_SETS + SCALE_SETS))
    summary = {}
    for name in names:
        dataset, _ = load(name)
        tools = [t for t in args.tools if not (t == "recordlinkage" and name in SCALE_SETS[1:])]
        if name == "synthetic-100k" and "junction" in tools:
            tools.append("command")
        entry = {"records": len(dataset.rows), "true_pairs": len(dataset.truth), "tools": {}}
        entry["cleanse_seconds"] = getattr(dataset, "cleanse_seconds", None)
        for tool in tools:
            entry["tools"][tool] = evaluate(run(tool, name), dataset.truth)
            print(f"{name} {tool}: {json.dumps(entry['tools'][tool])}", flush=True)
        summary[name] = entry
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=1))
    print(table(summary))


if __name__ == "__main__":
    main()
