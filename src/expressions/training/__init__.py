"""The model and its training: architecture, batches, recipe pieces, the loop, devices, DDP."""
