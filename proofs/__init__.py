"""Z3 proof obligations over the specification in `model/`."""
