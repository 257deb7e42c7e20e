"""Evaluation of trained stages on held-out data: metrics, timings, preview sheets."""
