"""`python -m todoctl`: the same program as the `todoctl` entry point."""

# Guarded so that importing the module (pkgutil.walk_packages, doc tools, pytest) runs nothing.
if __name__ == "__main__":
    from todoctl.cli.entry import main

    main()
