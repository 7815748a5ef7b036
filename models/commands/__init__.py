"""One module per backend command; see models/cli.py for the contract."""
