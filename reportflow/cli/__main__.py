from reportflow.cli.app import main

main()
