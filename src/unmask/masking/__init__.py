"""Synthetic face masks drawn onto faces from 68-point landmarks.

Two sources behind one interface (:class:`~unmask.masking.base.MaskSource`):
template masks in the MaskTheFace format (:mod:`unmask.masking.templates`) and procedural masks
drawn by our own code (:mod:`unmask.masking.procedural`). :mod:`unmask.masking.compose` picks
between them by a mix.
"""
