#!/usr/bin/env python
"""Build PixMo subsets with Apache Beam.

python beam_runner.py --list
python beam_runner.py SUBSET --help
python beam_runner.py SUBSET [--output DIR] [--num-examples N] [--seed S] [--splits ...] [beam options]
python beam_runner.py all [--skip SUBSET,...] [common options]
"""

import argparse
import logging
import sys

from pipelines.common.process_gc import exit_without_final_gc, imports_without_gc

with imports_without_gc():  # Beam's import, ~0.5 s less (see process_gc.py)
    from pipelines.common.options import (
        BEAM_EPILOG,
        add_common_arguments,
        check_common_arguments,
        dry_run_problems,
        unknown_beam_flags,
    )
    from pipelines.registry import SUBSETS, load

EXIT_USAGE = 2


def _list() -> int:
    width = max(len(name) for name in SUBSETS)
    for info in SUBSETS.values():
        status = "ready" if info.built else "not built yet"
        print(f"{info.name:<{width}}  {status:<13}  {info.summary}")
    print(f"{'all':<{width}}  {'':<13}  every subset that is built, one after another")
    return 0


def _subset_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    with imports_without_gc():  # a subset's modules (torch, for the model-driven ones)
        subset = load(name)
    parser = argparse.ArgumentParser(
        prog=f"beam_runner.py {name}",
        description=f"PixMo-{name}: {SUBSETS[name].summary}.",
        epilog=BEAM_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add_common_arguments(parser, subset.default_num_examples, subset.default_splits)
    subset.add_arguments(parser.add_argument_group(f"{name} options"))
    return parser, subset


def _parse(name: str, argv: list[str]) -> tuple[object, object, argparse.Namespace, list[str]] | int:
    parser, subset = _subset_parser(name)
    args, beam_args = parser.parse_known_args(argv)
    problems = check_common_arguments(args) + dry_run_problems(beam_args)
    # The arguments become the subset's options once, here; a dry run reads nothing remote.
    options, subset_problems = subset.parse(args, dry_run=_is_dry_run(beam_args))
    problems += subset_problems
    unknown = unknown_beam_flags(beam_args)
    if unknown:
        problems.append(f"unknown option(s) {', '.join(unknown)}: neither a {name} option nor a Beam pipeline option")
    if problems:
        parser.print_usage(sys.stderr)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return subset, options, args, beam_args


def _is_dry_run(beam_args: list[str]) -> bool:
    value = _option_value(beam_args, "--dry_run")
    return value is not None and value.lower() in ("true", "1", "yes") or "--dry_run" in beam_args


def _run_one(name: str, argv: list[str]) -> int:
    from pipelines.common.run import run_subset  # imported late: --list and --help stay fast

    parsed = _parse(name, argv)
    if isinstance(parsed, int):
        return parsed
    subset, options, args, beam_args = parsed
    return run_subset(subset, options, args, beam_args).exit_code


def _has_option(argv: list[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def _without_option(argv: list[str], flag: str) -> list[str]:
    """argv without `flag VALUE` / `flag=VALUE`."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == flag:
            skip = True
        elif not arg.startswith(flag + "="):
            out.append(arg)
    return out


def _option_value(argv: list[str], flag: str) -> str | None:
    """The value of `flag VALUE` / `flag=VALUE` (the last one wins), or None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(flag + "="):
            value = arg.split("=", 1)[1]
    return value


def _run_all(rest: list[str]) -> int:
    """Every built subset in registry order (Cap before CapQA, which reads it), minus --skip."""
    skip = {name.strip() for name in (_option_value(rest, "--skip") or "").split(",") if name.strip()}
    unknown = skip - set(SUBSETS)
    if unknown:
        print(f"error: --skip names unknown subsets: {', '.join(sorted(unknown))}", file=sys.stderr)
        return EXIT_USAGE
    rest = _without_option(rest, "--skip")
    codes = []
    for info in SUBSETS.values():
        if info.name in skip:
            print(f"{info.name}: skipped (--skip)")
            continue
        if not info.built:
            print(f"{info.name}: skipped - not built yet")
            continue
        subset = load(info.name)
        if subset.requires_input and not _has_option(rest, "--input"):
            print(f"{info.name}: skipped - needs --input (see `beam_runner.py {info.name} --help`)")
            continue
        argv_for_subset = rest
        if subset.default_num_examples is None and _has_option(rest, "--num-examples"):
            print(f"{info.name}: --num-examples ignored - its input decides how many examples there are")
            argv_for_subset = _without_option(rest, "--num-examples")
        codes.append(_run_one(info.name, argv_for_subset))
    return max(codes, default=0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Beam's local runners relay every worker's start-up chatter as warnings; keep real errors only.
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nSubsets:")
        _list()
        return 0 if argv else EXIT_USAGE
    if argv[0] == "--list":
        return _list()
    name, rest = argv[0], argv[1:]
    if name == "all":
        if any(a in ("-h", "--help") for a in rest):
            print(
                "beam_runner.py all [--skip SUBSET,...] [common options]: runs every built subset with its defaults "
                "and these options, in registry order (cap before capqa). Subsets that need --input are skipped "
                "without one."
            )
            print("Common options are those of `beam_runner.py clocks --help` under 'output' and 'running'.")
            return 0
        return _run_all(rest)
    if name not in SUBSETS:
        print(
            f"error: unknown subset {name!r}; choose one of {', '.join(SUBSETS)} or all (see --list)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not SUBSETS[name].built:
        print(
            f"error: the {name} subset is not built yet ({SUBSETS[name].summary}); "
            "see `python beam_runner.py --list` for the subsets you can run now",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return _run_one(name, rest)


if __name__ == "__main__":
    exit_without_final_gc()
    sys.exit(main())
