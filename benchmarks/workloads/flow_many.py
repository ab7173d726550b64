"""N flows of one task each, run one after another in one process (default N = 50).

Reports the wall time of the N flow calls against N bare function calls.
"""

from __future__ import annotations

from workload_support import add_one, emit, load_sdk, parse_args, start_backend, timed


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sdk = load_sdk(args.system)
    add_one_task = sdk.task(add_one)

    @sdk.flow
    def one_task(x: int) -> int:
        return add_one_task(x)

    def run_all(call, n: int) -> list[int]:
        return [call(i) for i in range(n)]

    startup = start_backend(sdk)
    bare_wall, expected = timed(run_all, add_one, args.n)
    wall, results = timed(run_all, one_task, args.n)
    emit(args.system, "flows", args.n, wall_s=wall, bare_wall_s=bare_wall, startup_s=startup,
         correct=results == expected)


if __name__ == "__main__":
    main()
