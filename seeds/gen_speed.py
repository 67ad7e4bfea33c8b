"""Time generating the rows of a profile in-process, no database: `python seeds/gen_speed.py load`."""
import resource, sys, time
t0 = time.perf_counter()
from todoctl.core.seed import profile as P
from todoctl.core.seed.rows import Generator
prof = P.load(sys.argv[1] if len(sys.argv) > 1 else "load")
t = time.perf_counter()
g = Generator(prof)
t1 = time.perf_counter()
for _ in g.users(): pass
for _ in g.task_lists(): pass
for _ in g.tags(): pass
t2 = time.perf_counter()
n = size = 0
with open("/dev/null", "wb") as sink:
    for chunk, k in g.tasks(sink):
        n += k; size += len(chunk)
t3 = time.perf_counter()
print(f"{sys.argv[2] if len(sys.argv) > 2 else ''} pools+skeleton {t1-t:.2f}s  users/lists/tags {t2-t1:.2f}s  "
      f"tasks {n:,} rows {t3-t2:.2f}s = {n/(t3-t2):,.0f} rows/s ({size/1e6:.0f} MB)  all rows {(t3-t):.2f}s  "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
