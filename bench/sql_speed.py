"""How long `analyse_sql` takes per answer, with and without SQL (budget: 25 ms median with SQL).

Run: .venv/bin/python bench/sql_speed.py --runs 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.rubric.sql import analyse_sql

WITH_SQL = """The column was added in one step and it locked the table, so this time I'd split it up:

```sql
SET lock_timeout = '2s';
SET statement_timeout = '15min';
ALTER TABLE orders ADD COLUMN region text;
-- deploy the version of the app that writes region for every new order
UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000 AND region IS NULL;
ALTER TABLE orders ADD CONSTRAINT orders_region_not_null CHECK (region IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_region_not_null;
ALTER TABLE orders ALTER COLUMN region SET NOT NULL;
```

The backfill repeats in batches of ten thousand until no rows change, watching replication lag between
batches. We deploy the code that writes the new column before the backfill starts."""

# A column replacement: the backfill only described in a comment, then the contract-phase drop.
WITH_CONTRACT = """Renaming in place broke the old workers, so this time it's expand and contract:

```sql
SET lock_timeout = '2s';
ALTER TABLE shipments ADD COLUMN carrier_code text;
-- release 1 writes both; a job backfills carrier_code in batches of 20k ids
ALTER TABLE shipments ADD CONSTRAINT shipments_carrier_code_nn CHECK (carrier_code IS NOT NULL) NOT VALID;
ALTER TABLE shipments VALIDATE CONSTRAINT shipments_carrier_code_nn;
```

Release 2 reads carrier_code only; a week later, once nothing queries the old column, the contract phase
runs `ALTER TABLE shipments DROP COLUMN carrier;`."""

WITHOUT_SQL = """At 14:02 the checkout error rate alert fired: 12% of payments were failing for EU customers.
I was on call, so I opened the incident channel, paged the payments owner and took incident command.
My first hypothesis was the new payment provider SDK, which turned out wrong: the errors started before
that deploy. The real cause was a connection pool that had been sized for last year's traffic. We
mitigated by raising the pool size and shedding non-critical batch jobs, which restored service at 14:31.
The fix was a pool sized from measured load; prevention was a saturation alert at 80% of the pool, owned
by the payments team and shipped the following week. Since then it has fired twice, both before users noticed.
"""


def _time(text: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        analyse_sql(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="analyses per answer (default 200)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    first = analyse_sql(WITH_SQL)  # warm-up: imports, regex compilation, the page cache for squawk
    print(f"squawk linted: {first.linted}; score of the SQL answer: {first.score}; "
          f"of the contract answer: {analyse_sql(WITH_CONTRACT).score}")
    for label, text in (("with SQL", WITH_SQL), ("contract", WITH_CONTRACT), ("without SQL", WITHOUT_SQL)):
        samples = _time(text, runs)
        median = statistics.median(samples)
        print(f"{label:12} runs={runs}  median={median:.2f} ms  p95={_p95(samples):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
