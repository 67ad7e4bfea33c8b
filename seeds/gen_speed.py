"""Time drawing the rows of a profile in-process, no database: `python seeds/gen_speed.py load [label]`."""
import resource, sys, time
t0 = time.perf_counter()
from todoctl.core.seed import plan as P, profile as F
from todoctl.core.seed.rows import Run
t = time.perf_counter()
plan = P.build(F.load(sys.argv[1] if len(sys.argv) > 1 else "load"))
t1 = time.perf_counter()
run = Run(plan).prepare().bind()
t2 = time.perf_counter()
parts = []
for table in run.tables:
    s = time.perf_counter(); n = size = 0
    for chunk, k in run.rows(table):
        n += k; size += len(chunk)
    parts.append(f"{table} {n:,} {time.perf_counter() - s:.2f}s")
t3 = time.perf_counter()
print(f"{sys.argv[2] if len(sys.argv) > 2 else ''} plan {t1-t:.2f}s  pools {t2-t1:.2f}s  {', '.join(parts)}  "
      f"all rows {(t3-t2):.2f}s  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
