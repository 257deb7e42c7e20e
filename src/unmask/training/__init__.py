"""Training: run folders, the loop helpers, and one module per stage (needs ``unmask[train]``)."""
