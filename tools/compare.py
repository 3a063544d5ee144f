"""Experiments side by side in under 100 columns: each experiment's changed params beside every
variant's test accuracy (the mean over its seeds, with the sd when there are several).

    python tools/compare.py [--width 100]      # or: make compare

`dvc exp show --only-changed` holds everything, dependency hashes and every metric included, and
runs far past a terminal; this reads its JSON and keeps what a comparison needs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

HEADLINE = "metrics/test/"


def flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out |= flat(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def rows(shown: list[dict]) -> list[tuple[str, dict, dict]]:
    """(name, params, {variant: headline}) for the workspace, each commit and its experiments."""
    out = []
    for commit in shown:
        revs = [commit] + [r for e in commit.get("experiments") or [] for r in e["revs"]]
        for rev in revs:
            data = rev.get("data") or {}
            params = flat((data.get("params") or {}).get("params.yaml", {}).get("data", {}))
            metrics = {
                variant: numbers
                for path, m in (data.get("metrics") or {}).items()
                if path.startswith(HEADLINE)
                for variant, numbers in (m.get("data") or {}).items()
            }
            rev_id = rev.get("rev", "")
            name = "workspace" if rev_id == "workspace" else rev.get("name") or rev_id[:7]
            out.append((name, params, metrics))
    return out


def cell(metrics: dict) -> str:
    if "acc" not in metrics:
        return "-"
    sd, seeds = metrics.get("acc_sd", 0.0), metrics.get("seeds", 1)
    return f"{metrics['acc']:.3f}" + (f"±{sd:.3f}" if seeds > 1 else "")


def table(shown: list[dict], width: int) -> str:
    found = rows(shown)
    if not found:
        return "no experiments"
    baseline = next((p for n, p, _ in found if n != "workspace"), found[0][1])  # the commit
    variants = list(dict.fromkeys(v for _, _, m in found for v in m))
    cells = [[cell(m.get(v, {})) for v in variants] for _, _, m in found]
    columns = [max(len(v), *(len(c[i]) for c in cells)) for i, v in enumerate(variants)]
    fixed = 14 + sum(c + 2 for c in columns)
    room = max(10, width - fixed)
    lines = [
        f"{'experiment':<14}{'changed params':<{room}}"
        + "".join(f"{v:>{c + 2}}" for v, c in zip(variants, columns, strict=True))
    ]
    for (name, params, _), row in zip(found, cells, strict=True):
        changed = " ".join(
            f"{k}={json.dumps(v, separators=(',', ':')) if isinstance(v, list | dict) else v}"
            for k, v in params.items()
            if baseline.get(k) != v
        )
        changed = changed if len(changed) < room else changed[: room - 4] + "... "
        lines.append(
            f"{name[:13]:<14}{changed:<{room}}"
            + "".join(f"{c:>{w + 2}}" for c, w in zip(row, columns, strict=True))
        )
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=100, help="columns to fit (default 100)")
    args = parser.parse_args(argv)
    done = subprocess.run(["dvc", "exp", "show", "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: dvc exp show failed: {done.stderr.strip().splitlines()[-1:]}")
    print(table(json.loads(done.stdout or "[]"), args.width))


if __name__ == "__main__":
    main(sys.argv[1:])
