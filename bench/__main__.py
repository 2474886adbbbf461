"""`make bench`: every benchmark prints its figure beside a baseline measured in the same run,
and adds its rows to the one table, out/bench/results.md and results.json."""

import sys

from bench import (
    documents,
    mail,
    office,
    prefect_lock,
    progress_table,
    reminders,
    results,
    signing,
    submit_path,
)

BENCHES = {
    "documents": documents.main,
    "office": office.run,
    "mail": mail.run,
    "reminders": reminders.main,
    "progress": progress_table.run,
    "submit": submit_path.run,
    "prefect-lock": prefect_lock.run,
    "signing": signing.run,
}


def main(argv: list[str] | None = None) -> None:
    """Runs the named benches (all by default): `python -m bench progress submit`."""
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    for name in names:
        print(f"\n== {name} ==", flush=True)
        table = results.record(BENCHES[name]())
        print(f"  → {table}")


if __name__ == "__main__":
    main()
