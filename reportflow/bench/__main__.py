"""`make bench`: every benchmark prints its figure beside a baseline measured in the same run."""

from reportflow.bench import documents


def main() -> None:
    documents.main()
    try:
        from reportflow.bench import reminders
    except ImportError:
        return
    reminders.main()


if __name__ == "__main__":
    main()
