"""``python -m tinygrad_edu.kernels.cuda --cc 9.0``: compile every CUDA kernel for every dtype
to PTX, one line per kernel and dtype; exit status 1 if any fails (see ``check``)."""

import argparse
import os
import sys

from .catalog import CATALOG
from .check import check


def _cc(text):
    try:
        major, minor = (int(part) for part in text.split("."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a compute capability such as 9.0, got "
                                         f"{text!r}") from None
    return major, minor


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu.kernels.cuda",
        description="Compile every CUDA kernel of tinygrad_edu for every dtype to PTX (no GPU "
                    "needed) and check that float32 kernels compute in float32.")
    parser.add_argument("--cc", type=_cc, action="append", metavar="MAJOR.MINOR",
                        help="compute capability to compile for (repeatable; default 9.0; the "
                             "toolkit's lowest is 7.5)")
    parser.add_argument("--kernel", action="append", metavar="NAME",
                        help="only this kernel (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="compile in this many processes (default: one per CPU)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.kernel or ()) - set(CATALOG))
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(CATALOG)}")
    results = check(args.cc or [(9, 0)], args.kernel, max(1, args.jobs),
                    report=lambda result: print(result, flush=True))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} compiled", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
