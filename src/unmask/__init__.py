"""unmask: rebuild the part of a face hidden under a face mask.

The outputs are plausible syntheses guided by landmarks and gender, not the person's real face.
Heavy modules (torch, dlib, cv2) are imported lazily by the functions that need them, so
``import unmask`` does no work.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
