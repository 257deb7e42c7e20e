"""Inference stages of the pipeline (segment, ...): weights in, arrays out."""
