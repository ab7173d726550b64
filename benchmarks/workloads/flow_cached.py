"""The N-task sequential flow with an input-keyed cache, called twice (default N = 1,000).

The task uses the INPUTS cache policy, so the second call should be all cache
hits: the function body must not run again. Systems without ``cache_policy``
report the case as unsupported.
"""

from __future__ import annotations

from workload_support import emit, emit_unsupported, load_sdk, parse_args, start_backend, timed

executed = 0


def add_one(x: int) -> int:
    global executed
    executed += 1
    return x + 1


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sdk = load_sdk(args.system)
    if sdk.inputs_policy is None:
        emit_unsupported(args.system, "cached", args.n, "no cache_policy / cache_policies.INPUTS")
        return
    add_one_task = sdk.task(cache_policy=sdk.inputs_policy)(add_one)

    @sdk.flow
    def sequential_cached(n: int) -> int:
        total = 0
        for i in range(n):
            total += add_one_task(i)
        return total

    def bare(n: int) -> int:
        return sum(x + 1 for x in range(n))

    startup = start_backend(sdk)
    bare_wall, expected = timed(bare, args.n)
    first_wall, first = timed(sequential_cached, args.n)
    executed_first = executed
    second_wall, second = timed(sequential_cached, args.n)
    emit(args.system, "cached", args.n, first_wall_s=first_wall, wall_s=second_wall, bare_wall_s=bare_wall,
         startup_s=startup, executed_in_second_call=executed - executed_first,
         correct=first == expected and second == expected)


if __name__ == "__main__":
    main()
