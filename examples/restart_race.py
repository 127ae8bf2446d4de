"""How often restart_on_fault's prefetch-to-copy race happens, against memory
pressure (``faults.reclaim_ns``), under both fault models.

    python examples/restart_race.py [--events N] [--out results/restart_race]

``restart_on_fault`` faults every payload page in (preemptible), then
reserves and copies with page faults disabled. Only a page that goes missing
in between makes it restart: reclaim under memory pressure (docs/model.md,
Faults). For each mean page lifetime ``faults.reclaim_ns`` in a log grid
(and 0, no reclaim), this runs ``restart_on_fault`` on the default world
and writes:

* ``restart_race.csv``: one row per (fault model, reclaim_ns): events,
  events with a payload, restarts, the bytes copied again by the restarts
  (each restart copies the whole payload again), records written
  DATA_MISSING after the 8th restart, the buffer's ``wasted_bytes``, and the
  rates per event with a payload;
* ``restart_race.png``: restarts, re-copied bytes and DATA_MISSING records
  per event with a payload against ``reclaim_ns``.

Both files are written under temporary names and renamed when complete.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastring  # noqa: E402

RECLAIM_NS = (0.0, 30.0, 100.0, 300.0, 1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6)
MODELS = ("bernoulli", "residency")
COLUMNS = ("faults.model", "faults.reclaim_ns", "events", "events_with_payload",
           "restarts", "recopied_bytes", "data_missing", "wasted_bytes",
           "restarts_per_payload_event", "recopied_bytes_per_payload_event",
           "data_missing_per_payload_event")
PANELS = (("restarts", "restarts_per_payload_event"),
          ("bytes copied again", "recopied_bytes_per_payload_event"),
          ("records DATA_MISSING (8 restarts used up)",
           "data_missing_per_payload_event"))


def measure(model: str, reclaim_ns: float, events: int, seed: int) -> dict:
    """One run of restart_on_fault; per-event rows are streamed, not kept."""
    acc = {"payload": 0, "recopied": 0}

    def take(batch):
        n = batch.column("payload_len").to_numpy()
        k = batch.column("restarts").to_numpy()
        acc["payload"] += int((n > 0).sum())
        acc["recopied"] += int((n * k).sum())

    res = fastring.run({"run": {"events": events, "seed": seed,
                                "strategies": ["restart_on_fault"]},
                        "faults": {"model": model, "reclaim_ns": reclaim_ns}},
                       on_batch=take)
    r = res.runs.to_pylist()[0]
    per = max(acc["payload"], 1)
    return {"faults.model": model, "faults.reclaim_ns": reclaim_ns,
            "events": r["events"], "events_with_payload": acc["payload"],
            "restarts": r["restarts"], "recopied_bytes": acc["recopied"],
            "data_missing": r["data_missing"], "wasted_bytes": r["wasted_bytes"],
            "restarts_per_payload_event": r["restarts"] / per,
            "recopied_bytes_per_payload_event": acc["recopied"] / per,
            "data_missing_per_payload_event": r["data_missing"] / per}


def plot(rows: list[dict], path: Path, events: int) -> None:
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 3.8))
    for ax, (title, key) in zip(axes, PANELS):
        for model in MODELS:
            pts = [(r["faults.reclaim_ns"], r[key]) for r in rows
                   if r["faults.model"] == model and r["faults.reclaim_ns"] > 0]
            x = np.array([p for p, _ in pts])
            y = np.array([v for _, v in pts])
            ax.plot(x[y > 0], y[y > 0], marker="o", markersize=3, label=model)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("faults.reclaim_ns (mean page lifetime under reclaim)")
        ax.set_ylabel("per event with a payload")
        ax.grid(True, which="major", alpha=0.3)
    off = {r["faults.model"]: r["restarts"] for r in rows if r["faults.reclaim_ns"] == 0}
    axes[0].legend(title="faults.model", fontsize=8)
    fig.suptitle(f"restart_on_fault, default world, {events:,} events per point; "
                 f"no reclaim: {off.get('bernoulli', 0)} / {off.get('residency', 0)} "
                 f"restarts (bernoulli / residency); wasted buffer bytes: "
                 f"{sum(r['wasted_bytes'] for r in rows)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="results/restart_race")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for model in MODELS:
        for reclaim in RECLAIM_NS:
            rows.append(measure(model, reclaim, args.events, args.seed))
            r = rows[-1]
            print(f"{model:9} reclaim_ns={reclaim:>9g}: "
                  f"{r['restarts_per_payload_event']:.3g} restarts, "
                  f"{r['recopied_bytes_per_payload_event']:.3g} B copied again "
                  f"per event with a payload", file=sys.stderr)
    tmp_csv, tmp_png = out / ".restart_race.csv.tmp", out / ".restart_race.png.tmp.png"
    with open(tmp_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    plot(rows, tmp_png, args.events)
    os.replace(tmp_csv, out / "restart_race.csv")
    os.replace(tmp_png, out / "restart_race.png")
    print(f"wrote restart_race.csv and restart_race.png to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
