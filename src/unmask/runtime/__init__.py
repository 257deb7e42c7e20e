"""Inference runtime: weights lookup and loading, backends."""
