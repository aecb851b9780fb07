"""Models built on the network core: the cell model (and, later, the patient model)."""
