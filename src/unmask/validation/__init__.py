"""Validation-time choosers shared by training (promotion) and evaluation: the detector's score
threshold and small-face rule, the segmenter's post-processing, and the attr network's
predictions and figures on a validation loader. Both :mod:`unmask.training` and
:mod:`unmask.evaluation` import them; this package imports neither."""
