"""Task caching: cache policies, Cached states, and the reason a run missed the cache."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from partita import flow, task
from partita.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE, UPSTREAM, Inputs, SourceText


def _counter():
    calls: list[object] = []

    def body(x):
        calls.append(x)
        return x * 2

    return calls, body


def _states(client, flow_state):
    runs = client.read_task_runs(flow_state.state_details["flow_run_id"])
    return sorted(runs, key=lambda r: int(r.dynamic_key))


def test_second_call_is_cached_and_skips_the_function(fresh_home, client):
    calls, body = _counter()
    double = task(cache_policy=INPUTS, name="double")(body)

    @flow
    def f(n: int) -> list[int]:
        return [double(i) for i in range(n)]

    first = f(3, return_state=True)
    second = f(3, return_state=True)
    assert first.result() == second.result() == [0, 2, 4]
    assert calls == [0, 1, 2]
    runs = _states(client, second)
    assert [r.state.name for r in runs] == ["Cached"] * 3
    assert all(r.state.state_details["cache_key"] == r.cache_key for r in runs)
    history = client.read_task_run_states(runs[0].id)
    assert [s.name for s in history] == ["Pending", "Running", "Cached"]
    assert [r.state.state_details["cache_miss_reason"] for r in _states(client, first)] == ["no previous run"] * 3


def test_changed_inputs_miss_with_their_reason(fresh_home, client):
    calls, body = _counter()
    double = task(cache_policy=INPUTS, name="double")(body)

    @flow
    def f(x: int) -> int:
        return double(x)

    f(1)
    state = f(2, return_state=True)
    assert calls == [1, 2]
    (run,) = _states(client, state)
    assert run.state.name == "Completed"
    assert run.state.state_details["cache_miss_reason"] == "inputs changed"
    running = [s for s in client.read_task_run_states(run.id) if s.type == "RUNNING"]
    assert running[0].state_details["cache_miss_reason"] == "inputs changed"


def test_changed_source_text_misses_with_source_changed(fresh_home, client):
    calls, body = _counter()

    def run_with(source: str):
        t = task(cache_policy=SourceText(source) + INPUTS, name="cell")(body)

        @flow(name="notebookish")
        def f() -> int:
            return t(5)

        return f(return_state=True)

    run_with("a = 1")
    run_with("a = 1")
    state = run_with("a = 2")
    assert calls == [5, 5]
    (run,) = _states(client, state)
    assert run.state.state_details["cache_miss_reason"] == "source changed"


def test_task_source_policy_uses_the_function_source(fresh_home, client):
    @task(cache_policy=TASK_SOURCE + INPUTS)
    def stable(x):
        return x

    @flow
    def f():
        return stable(1, return_state=True).name

    assert f() == "Completed"
    assert f() == "Cached"


def test_refresh_cache_recomputes_and_stores_again(fresh_home, client, monkeypatch):
    calls, body = _counter()
    cached = task(cache_policy=INPUTS, name="refreshable")(body)

    @flow
    def f() -> str:
        return cached(1, return_state=True).name

    assert f() == "Completed"
    refreshed = cached.with_options(refresh_cache=True)

    seen = []

    @flow
    def g() -> None:
        seen.append(refreshed(1, return_state=True))

    g()
    state = seen[-1]
    assert state.name == "Completed" and state.state_details["cache_miss_reason"] == "refresh asked"
    assert f() == "Cached"
    monkeypatch.setenv("PARTITA_REFRESH_CACHE", "true")
    from partita.settings import get_settings

    get_settings.cache_clear()
    assert f() == "Completed"
    assert calls == [1, 1, 1]


def test_expired_entries_are_recomputed(fresh_home, client):
    calls, body = _counter()
    short = task(cache_policy=INPUTS, cache_expiration=dt.timedelta(seconds=0.3), name="short")(body)

    seen = []

    @flow
    def run() -> None:
        seen.append(short(3, return_state=True))

    def f():
        run()
        return seen[-1]

    assert f().name == "Completed"
    assert f().name == "Cached"
    time.sleep(0.4)
    state = f()
    assert state.name == "Completed" and state.state_details["cache_miss_reason"] == "cache expired"
    assert calls == [3, 3]


def test_cache_key_fn_as_in_prefect(fresh_home, client):
    seen = []

    def by_first_letter(context, parameters):
        seen.append(sorted(parameters))
        return "word-" + parameters["word"][0]

    @task(cache_key_fn=by_first_letter)
    def shout(word: str) -> str:
        return word.upper()

    @flow
    def f(word: str) -> str:
        return shout(word)

    assert f("apple") == "APPLE"
    assert f("avocado") == "APPLE"  # same key, so the stored result
    assert f("banana") == "BANANA"
    assert seen[0] == ["word"]


def test_upstream_policy_follows_the_upstream_cache_key(fresh_home, client):
    calls: list[str] = []

    @task(cache_policy=INPUTS)
    def source(x):
        calls.append(f"source{x}")
        return x

    @task
    def uncached():
        calls.append("uncached")
        return 0

    @task(cache_policy=UPSTREAM)
    def after():
        calls.append("after")
        return "done"

    seen = []

    @flow
    def cached_flow(x: int):
        up = source.submit(x)
        seen.append(after(wait_for=[up], return_state=True))

    @flow
    def uncached_flow():
        up = uncached.submit()
        seen.append(after.with_options(name="after2")(wait_for=[up], return_state=True))

    def with_cached(x):
        cached_flow(x)
        return seen[-1]

    def with_uncached():
        uncached_flow()
        return seen[-1]

    assert with_cached(1).name == "Completed"
    assert with_cached(1).name == "Cached"
    changed = with_cached(2)
    assert changed.name == "Completed" and changed.state_details["cache_miss_reason"] == "upstream changed"
    with_uncached()
    again = with_uncached()
    assert again.name == "Completed" and again.state_details["cache_miss_reason"] == "upstream changed"
    assert calls.count("after") == 4


def test_unhashable_inputs_run_uncached(fresh_home, client):
    calls = []

    @task(cache_policy=INPUTS)
    def uses_lock(lock):
        calls.append(1)
        return 1

    @flow
    def f():
        return [uses_lock(threading.Lock(), return_state=True)][0].name

    assert f() == "Completed"
    assert f() == "Completed"
    assert len(calls) == 2


def test_inputs_policy_can_exclude_arguments(fresh_home, client):
    @task(cache_policy=Inputs(exclude=("verbose",)))
    def compute(x, verbose=False):
        return x + 1

    @flow
    def f(verbose: bool):
        return compute(1, verbose=verbose, return_state=True).name

    assert f(False) == "Completed"
    assert f(True) == "Cached"


def test_async_tasks_are_cached_too(fresh_home, client):
    calls = []

    @task(cache_policy=INPUTS)
    async def fetch(x):
        calls.append(x)
        return x + 10

    @flow
    async def f():
        return await fetch(1)

    assert asyncio.run(f()) == 11
    assert asyncio.run(f()) == 11
    assert calls == [1]


def test_no_cache_combines_to_nothing():
    assert (NO_CACHE + INPUTS) is INPUTS
    assert (INPUTS + NO_CACHE) is INPUTS
    assert repr(INPUTS + TASK_SOURCE) == "INPUTS + TASK_SOURCE"


def test_a_later_process_hits_the_cache(fresh_home, tmp_path):
    script = tmp_path / "cached_flow.py"
    script.write_text(textwrap.dedent('''
        import sys
        from partita import flow, task
        from partita.cache_policies import INPUTS

        @task(cache_policy=INPUTS)
        def square(x):
            print("computing", x, file=sys.stderr)
            return x * x

        @flow
        def squares():
            return [square(i, return_state=True).name for i in range(3)]

        print(",".join(squares()))
    '''))
    env = {"PARTITA_HOME": str(fresh_home), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.strip() == "Completed,Completed,Completed"
    assert second.stdout.strip() == "Cached,Cached,Cached"
    assert "computing" not in second.stderr


def test_cache_keys_never_name_paths(fresh_home, client):
    @task(cache_key_fn=lambda ctx, params: "../../escape")
    def sneaky():
        return 1

    seen = []

    @flow
    def run():
        seen.append(sneaky(return_state=True))

    def f():
        run()
        return seen[-1]

    state = f()
    assert "/cache/" in state.data["storage_key"]
    assert ".." not in state.data["storage_key"].split("/cache/")[1]
    assert not (fresh_home.parent / "escape").exists()
    assert f().name == "Cached"


def test_a_cache_that_cannot_be_read_fails_the_task_run_instead_of_leaving_it_pending(fresh_home, client):
    fresh_home.mkdir(parents=True, exist_ok=True)
    (fresh_home / "storage").write_text("a file where the result storage folder should be")
    double = task(cache_policy=INPUTS, name="double")(lambda x: x * 2)

    @flow
    def submitted() -> int:
        return double.submit(2).result()

    @flow
    def called() -> int:
        return double(2)

    for f in (submitted, called):
        state = f(return_state=True)
        assert state.type.value == "FAILED", (f.name, state)
        (run,) = client.read_task_runs(state.state_details["flow_run_id"])
        assert run.state_type.value == "FAILED", (f.name, run.state)
        assert run.state.message.startswith("the cache of task run 'double' could not be read: NotADirectoryError")
        assert client.read_flow_run(state.state_details["flow_run_id"]).state_type.value == "FAILED"
