"""One module per backend command; see models/cli/main.py for the contract."""
