"""Metrics (numpy in, floats out): landmarks, calibration, images, masks, detection."""
