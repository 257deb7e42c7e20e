"""Dataset building (faces -> aligned crops, teacher landmarks, synthetic masks, manifest)
and the PyTorch dataset over it."""
