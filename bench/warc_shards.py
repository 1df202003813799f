"""Planning cost of WARC byte-range shards: one sequential read of a generated ``.warc.gz`` to find
its record starts (``plan_shards``), beside reading every record of the same file (what the
workers do between them), CPU seconds measured side by side in one process.

``python -m bench.warc_shards --pages 2000 --shards 8`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.corpus import write_archive
from extractors.sources.archives import iter_records
from extractors.sources.shards import iter_shard, plan_shards


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.warc_shards")
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--shards", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_archive(Path(tmp), args.pages, "warc")
        size = path.stat().st_size
        t0 = time.process_time()
        shards = plan_shards(path, max(1, size // args.shards))
        plan_cpu = time.process_time() - t0
        t0 = time.process_time()
        whole = sum(1 for _ in iter_records(path))
        read_cpu = time.process_time() - t0
        t0 = time.process_time()
        split = sum(1 for s in shards for _ in iter_shard(s))
        split_cpu = time.process_time() - t0
    print(json.dumps({"pages": args.pages, "file_bytes": size, "shards": len(shards), "records": whole,
                      "records_from_shards": split, "plan_cpu_s": round(plan_cpu, 3),
                      "read_all_cpu_s": round(read_cpu, 3), "read_shards_cpu_s": round(split_cpu, 3),
                      "plan_over_read": round(plan_cpu / read_cpu, 3) if read_cpu else None,
                      "plan_us_per_record": round(plan_cpu / max(whole, 1) * 1e6, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
