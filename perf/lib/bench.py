"""The one place perf scripts run a buddy program and read its result.

Every app prints one JSON object as its last line with --json; async_cost
prints one JSON line per regime.  The perf scripts (perf/ab and the sweeps in
perf/*.sh) launch programs and read those lines through these functions, so a
change to how a run is launched or a result is parsed is made here once.
"""
import json
import os
import statistics
import subprocess

# Root privileges do not change what is measured; mpirun refuses root without these.
MPI_ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


class RunError(Exception):
    """A run that gave no usable result: it failed, timed out, or was not verified."""


def mpirun(ranks, program, args=(), env=None):
    """The mpirun command line for `program` at `ranks` ranks; `env` entries are exported to the ranks."""
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none"]
    for name in sorted(env or {}):
        cmd += ["-x", name]
    return cmd + [program] + list(args)


def run(cmd, env=None, timeout=600):
    """Runs `cmd` under `timeout` (the command's own, so mpirun and its ranks go too) and returns stdout."""
    full_env = dict(os.environ)
    full_env.update(MPI_ROOT_ENV)
    full_env.update(env or {})
    wrapped = ["timeout", "--kill-after=10", str(int(timeout))] + list(cmd)
    proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)
    try:
        stdout, stderr = proc.communicate()
    except KeyboardInterrupt:
        # timeout runs in its own process group, so Ctrl-C does not reach it:
        # a TERM makes it pass the signal on and reap mpirun and the ranks.
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise
    if proc.returncode != 0:
        why = "timed out" if proc.returncode in (124, 137) else f"exit status {proc.returncode}"
        raise RunError(f"{why}: {' '.join(cmd)}\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return stdout


def json_lines(stdout):
    """Every line of `stdout` that is a JSON object, in order."""
    found = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return found


def last_result(stdout, what="the command"):
    """The last line of `stdout` as a JSON object, or as a bare number ({"value": n})."""
    lines = stdout.strip().splitlines()
    if not lines:
        raise RunError(f"{what} printed nothing")
    last = lines[-1].strip()
    try:
        value = json.loads(last)
    except json.JSONDecodeError:
        raise RunError(f"{what}: last line is neither JSON nor a number: {last[:200]}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": float(value)}
    if not isinstance(value, dict):
        raise RunError(f"{what}: last line is not a JSON object: {last[:200]}")
    return value


def run_app(build, app, ranks=2, mode="buddy", placement="inproc", args=(), env=None, timeout=600):
    """Runs apps/<app> with --json and returns its result object; refuses an unverified result."""
    ranks_env = {"BUDDY_PLACEMENT": placement}
    ranks_env.update(env or {})
    cmd = mpirun(ranks, os.path.join(build, "apps", app), ["--mode", mode, "--json"] + list(args), ranks_env)
    result = last_result(run(cmd, ranks_env, timeout), " ".join(cmd))
    if not result.get("verified"):
        raise RunError(f"not verified: {' '.join(cmd)}\n{json.dumps(result)}")
    return result


def app_rate(app, result):
    """An app's throughput: messages/s, or quicksilver's figure of merit (segments/s)."""
    return float(result["fom"] if app == "quicksilver" and "fom" in result else result["rate"])


def run_async_cost(build, ranks=2, placement="inproc", args=(), env=None, timeout=600):
    """Runs perf/async_cost; returns {regime: median ns per message}."""
    ranks_env = {"BUDDY_PLACEMENT": placement}
    ranks_env.update(env or {})
    cmd = mpirun(ranks, os.path.join(build, "perf", "async_cost"), list(args), ranks_env)
    regimes = {d["regime"]: float(d["median_ns"]) for d in json_lines(run(cmd, ranks_env, timeout))
               if d.get("bench") == "async_cost"}
    if not regimes:
        raise RunError(f"no async_cost result from: {' '.join(cmd)}")
    return regimes


def summary(values):
    """(median, min, max) of a non-empty list."""
    return statistics.median(values), min(values), max(values)
