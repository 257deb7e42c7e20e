"""Batch augmentations of the segmenter's training: dark surroundings and dark masks
(:mod:`~unmask.augment.darken`), light and skin-toned masks (:mod:`~unmask.augment.light_masks`)."""
