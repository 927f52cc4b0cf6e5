"""Start one command and report its own rusage: `python -S bench/_launch.py OUT TIMEOUT -- CMD...`.

Why a launcher: Linux keeps a process's peak RSS (ru_maxrss) across exec, and a
child forked from the bench process starts with the bench's own peak, so
measuring a child of the bench would report at least the bench's size. Forked
from this small process (stdlib only, no site), the child's ru_maxrss is its
own (or this launcher's few MB, whichever is larger). Wall time is measured
here, from spawn to exit, so the launcher's own start-up is not counted.
Writes JSON to OUT: wall, cpu, cpu_wait (seconds runnable but waiting for a CPU, from
/proc/PID/schedstat before reaping), maxrss_kb, returncode.
"""

import json
import os
import signal
import sys
import time


def _cpu_wait(pid: int) -> float:
    """Seconds the (exited, unreaped) child was runnable but waiting for a CPU."""
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return float("nan")


def main() -> None:
    out, timeout, sep, *cmd = sys.argv[1:]
    if sep != "--" or not cmd:
        sys.exit("usage: python -S bench/_launch.py OUT TIMEOUT -- CMD [ARG...]")
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)

    def kill(_signum: int, _frame: object) -> None:
        os.kill(pid, signal.SIGKILL)  # bounded: a hung command is killed

    signal.signal(signal.SIGALRM, kill)
    signal.alarm(max(1, int(float(timeout))))
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
    wall = time.perf_counter() - start
    waited = _cpu_wait(pid)
    _pid, status, usage = os.wait4(pid, 0)
    signal.alarm(0)
    result = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "cpu_wait": waited,
        "maxrss_kb": usage.ru_maxrss,
        "returncode": os.waitstatus_to_exitcode(status),
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
