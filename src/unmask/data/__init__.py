"""Dataset building (faces -> aligned crops, teacher landmarks, synthetic masks, manifest),
compact copies, real pixel-labelled photos, and the PyTorch dataset over them. Detector scenes
are made by :mod:`unmask.scenes`, the segmenter's batch augmentations by
:mod:`unmask.augment`."""
