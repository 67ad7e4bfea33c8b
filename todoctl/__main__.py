from todoctl.cli.app import main

main()
