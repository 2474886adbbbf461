"""`make bench`: every benchmark prints its figure beside a baseline measured in the same run."""

from reportflow.bench import documents, reminders


def main() -> None:
    documents.main()
    reminders.main()


if __name__ == "__main__":
    main()
