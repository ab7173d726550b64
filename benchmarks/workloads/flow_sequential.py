"""A flow calling N trivial tasks one after another (default N = 1,000).

Reports the flow call's wall time, the wall time of the same N function calls
without any orchestration, the backend start-up time and the peak RSS.
"""

from __future__ import annotations

from workload_support import add_one, emit, load_sdk, parse_args, start_backend, timed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sdk = load_sdk(args.system)
    add_one_task = sdk.task(add_one)

    @sdk.flow
    def sequential(n: int) -> int:
        total = 0
        for i in range(n):
            total += add_one_task(i)
        return total

    def bare(n: int) -> int:
        total = 0
        for i in range(n):
            total += add_one(i)
        return total

    startup = start_backend(sdk)
    bare_wall, expected = timed(bare, args.n)
    wall, total = timed(sequential, args.n)
    emit(args.system, "sequential", args.n, wall_s=wall, bare_wall_s=bare_wall, startup_s=startup,
         correct=total == expected)


if __name__ == "__main__":
    main()
