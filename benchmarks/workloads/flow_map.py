"""A flow mapping a trivial task over N inputs on the default task runner (default N = 10,000).

All futures are resolved with ``.result()`` inside the flow. Reports the flow
call's wall time against the bare list comprehension.
"""

from __future__ import annotations

from workload_support import add_one, emit, load_sdk, parse_args, start_backend, timed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sdk = load_sdk(args.system)
    add_one_task = sdk.task(add_one)

    @sdk.flow
    def mapped(n: int) -> list[int]:
        futures = add_one_task.map(range(n))
        return [future.result() for future in futures]

    def bare(n: int) -> list[int]:
        return [add_one(x) for x in range(n)]

    startup = start_backend(sdk)
    bare_wall, expected = timed(bare, args.n)
    wall, results = timed(mapped, args.n)
    emit(args.system, "map", args.n, wall_s=wall, bare_wall_s=bare_wall, startup_s=startup,
         correct=results == expected)


if __name__ == "__main__":
    main()
