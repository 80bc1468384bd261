"""Regenerate the golden outputs: ``python -m tests.golden.make_golden`` (see cases.py)."""

from __future__ import annotations

from tests.golden.cases import EXPECTED, cases, render_api, render_batch, render_case


def main() -> None:
    EXPECTED.mkdir(exist_ok=True)
    for name, args in cases().items():
        (EXPECTED / f"{name}.json").write_text(render_case(args))
        print("wrote", name)
    (EXPECTED / "api_weekly.json").write_text(render_api())
    print("wrote api_weekly")
    (EXPECTED / "batch_cut_timing_size.csv").write_text(render_batch())
    print("wrote batch_cut_timing_size")


if __name__ == "__main__":
    main()
