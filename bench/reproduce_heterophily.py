"""Reproduce the minesweeper and tolokers rows of Platonov et al. (ICLR 2023) with gnnbook's layers,
and write a dated Markdown table.

The defaults are the paper's configuration: hidden width 512, 8 heads, dropout 0.2, Adam with
learning rate 3e-5, 1000 full-batch steps evaluated at every step, 1 to 5 residual blocks (the depth
with the best mean validation score is reported), all 10 splits. That takes days on a CPU; the
flags shrink it, e.g. a smoke run:

    PYTHONPATH=src python bench/reproduce_heterophily.py --datasets minesweeper --models GCN \
        --splits 1 --steps 50 --layers 1 --hidden 64

Data come from the gnnbook cache (``$GNNBOOK_DATA`` or ``~/.cache/gnnbook``; ``.ci/seed_data.sh``
fills it), else are downloaded. Chapter "When attention helps and when it cannot" trains a small
configuration of the same models in the book build and names this script for the full one.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from pathlib import Path

import torch

from gnnbook.datasets import HETEROPHILOUS_NAMES, load_heterophilous
from gnnbook.models import MODELS, PUBLISHED, HeterophilyNet, train_split

HERE = Path(__file__).resolve().parent


def _positive_ints(text: str) -> list[int]:
    values = [int(v) for v in text.split(",")]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, got {text!r}"
        )
    return values


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["minesweeper", "tolokers"], choices=HETEROPHILOUS_NAMES
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--splits", type=int, default=10, help="use the first N of the 10 fixed splits"
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument(
        "--layers",
        type=_positive_ints,
        default=[1, 2, 3, 4, 5],
        help="depths to try, comma-separated; the best mean validation score is reported",
    )
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument(
        "--eval-every", type=int, default=1, help="score validation every N steps (paper: 1)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, ... (default: the GPU when there is one)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Markdown file to write (default: bench/heterophily-results-<date>.md)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.splits <= 10:
        parser.error(f"--splits must lie in 1..10, got {args.splits}")
    if args.steps < 1 or args.eval_every < 1:
        parser.error("--steps and --eval-every must be positive")
    return args


def _mean_std(values: list[float]) -> str:
    """Percent, mean ± sample std (the paper's ddof=1); just the value for one split."""
    mean = 100 * statistics.fmean(values)
    return (
        f"{mean:.2f} ± {100 * statistics.stdev(values):.2f}" if len(values) > 1 else f"{mean:.2f}"
    )


def _device(args) -> torch.device:
    """``--device``, else the GPU when there is one."""
    return torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))


def run(args) -> list[dict]:
    """One row per (dataset, model): the depth with the best mean validation
    score, its test scores."""
    device = _device(args)
    rows = []
    for name in args.datasets:
        data = load_heterophilous(name).to(device)
        for model_name in args.models:
            best, seconds = None, 0.0
            for depth in args.layers:
                results = []
                for i in range(args.splits):
                    torch.manual_seed(i)  # initial weights: one seed per split, as the paper's runs
                    model = HeterophilyNet(
                        model_name,
                        data.num_features,
                        data.num_classes,
                        hidden=args.hidden,
                        num_layers=depth,
                        heads=args.heads,
                        dropout=args.dropout,
                    ).to(device)
                    results.append(
                        train_split(
                            model,
                            data.split(i),
                            steps=args.steps,
                            lr=args.lr,
                            eval_every=args.eval_every,
                            seed=i,
                        )
                    )
                    print(
                        f"{name} {model_name} layers={depth} split={i}: val {results[-1].val:.4f} "
                        f"test {results[-1].test:.4f} (step {results[-1].best_step}, "
                        f"{results[-1].seconds:.1f} s)",
                        flush=True,
                    )
                val = statistics.fmean(r.val for r in results)
                if best is None or val > best["val"]:
                    best = {
                        "dataset": name,
                        "model": model_name,
                        "layers": depth,
                        "val": val,
                        "test": [r.test for r in results],
                    }
                seconds += sum(r.seconds for r in results)
            rows.append({**best, "seconds": seconds})  # the time of all depths
    return rows


def _device_name(args) -> str:
    device = _device(args)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def markdown(rows: list[dict], args, started: datetime.datetime, seconds: float) -> str:
    metric = {name: "ROC-AUC" if name in PUBLISHED else "accuracy" for name in args.datasets}
    lines = [
        f"# Heterophilous benchmarks with gnnbook's layers ({started:%Y-%m-%d})",
        "",
        f"Written by `bench/reproduce_heterophily.py` on {started:%Y-%m-%d %H:%M} UTC, "
        f"{_device_name(args)}, torch {torch.__version__}; {seconds / 60:.1f} min in all.",
        "",
        f"Configuration: {args.splits} split(s), {args.steps} steps, Adam lr {args.lr}, hidden "
        f"{args.hidden}, "
        f"{args.heads} heads, dropout {args.dropout}, depths {','.join(map(str, args.layers))} "
        f"(best mean validation score), validation scored every {args.eval_every} step(s). "
        "Test score in %, mean ± std over the splits; the paper's (Platonov et al. 2023) "
        "beside it.",
        "",
        "| dataset | metric | model | layers | ours | paper | train time (s, all depths) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        paper = PUBLISHED.get(row["dataset"], {}).get(row["model"])
        paper_text = f"{paper[0]:.2f} ± {paper[1]:.2f}" if paper else "–"
        lines.append(
            f"| {row['dataset']} | {metric[row['dataset']]} | {row['model']} | {row['layers']} | "
            f"{_mean_std(row['test'])} | {paper_text} | {row['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    rows = run(args)
    out = args.out or HERE / f"heterophily-results-{started:%Y-%m-%d}.md"
    out.write_text(markdown(rows, args, started, time.perf_counter() - clock))
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
