"""newsflow's benchmark suite (issue 5): ``make bench`` = ``python -m bench``.

Each benchmark is one module with a ``run(...)`` function that prints its figures and writes
``bench/results/<name>.json``; ``bench/report.py`` turns the latest results into the table
in ``bench/RESULTS.md``. Targets are checked as ratios measured side by side in one run, or
as counts; absolute times are reported, never asserted.
"""
