"""Batch augmentations of training. The segmenter's: dark surroundings and dark masks
(:mod:`~unmask.augment.darken`), light and skin-toned masks (:mod:`~unmask.augment.light_masks`).
The attr network's: masks of any colour and print (:mod:`~unmask.augment.mask_prints`), masks
moved and reshaped (:mod:`~unmask.augment.mask_reach`), occluders beyond masks
(:mod:`~unmask.augment.occluders`)."""
