"""Import speed: read + store 10,000 examples into SQLite, against pandas merely parsing the file.

Also times the Browse page (AppTest) rendering one page of 50 from the 10,000-example project.
Run: .venv/bin/python benchmarks/bench_import.py [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "llamafactory" / "alpaca_en_demo.json"


def make_file(n: int, folder: Path) -> Path:
    records = json.loads(DATA.read_text())
    path = folder / f"alpaca_{n}.jsonl"
    with path.open("w") as fh:
        for i in range(n):
            rec = dict(records[i % len(records)])
            rec["instruction"] = f"{rec['instruction']} (variant {i // len(records)})"
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()

    from curation.formats import read_examples
    from curation.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_file(args.n, folder)
        t_pandas = best_of(lambda: pd.read_json(path, lines=True))
        t_read = best_of(lambda: read_examples(path))

        def full_import(i=[0]) -> None:  # noqa: B006 - counter across repeats
            i[0] += 1
            store = Store(f"sqlite:///{folder / f'bench{i[0]}.db'}")
            store.create_project("bench", "bench")
            summary = store.add_import("bench", read_examples(path), "bench")
            assert summary.imported == args.n, summary
            store.dispose()

        t_import = best_of(full_import)

        # Browse page: one page of 50 from the project, rendered through AppTest.
        os.environ["CURATION_HOME"] = str(folder / "home")
        store = Store()
        store.create_project("bench", "bench")
        store.add_import("bench", read_examples(path), "bench")
        from streamlit.testing.v1 import AppTest

        os.chdir(REPO)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.session_state["project"] = "bench"
        at.session_state["annotator"] = "bench"
        at.run()
        at.switch_page("pages/browse_page.py")
        t_browse = best_of(lambda: at.run(), repeat=5)
        assert not at.exception, at.exception
        shown = len(at.dataframe[0].value)

    print(f"| step ({args.n:,} alpaca examples) | seconds |")
    print("|---|---|")
    print(f"| pandas.read_json(lines=True), parse only (reference) | {t_pandas:.3f} |")
    print(f"| curation read_examples (parse + canonical records) | {t_read:.3f} |")
    print(f"| curation import into SQLite (read + store, one transaction) | {t_import:.3f} |")
    print(f"| ratio import / pandas parse | {t_import / t_pandas:.2f}x |")
    print(f"| Browse page, one page of {shown} rows (AppTest run) | {t_browse:.3f} |")


if __name__ == "__main__":
    main()
