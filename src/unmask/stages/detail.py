"""Fine detail for a rebuilt region at the photo's resolution.

The inpainter's 128-px result, pasted into a photo where the face is larger, is that grid
enlarged. :class:`DetailRestorer` runs :class:`~unmask.models.detail.DetailNet` over the
enlarged region with the enlargement factor and returns the region with the detail a real face
of that size shows (trained on real high-resolution skin, :mod:`unmask.data.detail_patches`).
The photo-resolution finishing (:func:`unmask.stages.finish.finish_face`) applies it inside
the hole before the grain step, which then adds only what is still missing.

Images are ``H x W x 3`` float32 RGB in [0, 255] (the finishing's working values).
"""

from __future__ import annotations

import numpy as np

from unmask.runtime.backend import open_net

#: Photo pixels of context the network needs on each side of what it changes.
REACH = 12


class DetailRestorer:
    """Add fine detail to an enlarged region.

    Args:
        model: a :class:`~unmask.models.detail.DetailNet` or a net of
            :mod:`unmask.runtime.backend` running one.
        max_scale: enlargement factors above this are treated as this (the training range's
            top).
    """

    def __init__(self, model, max_scale: float = 6.0) -> None:
        from unmask.runtime.backend import as_net

        self.net = as_net(model, "DetailNet")
        self.max_scale = float(max_scale)

    @classmethod
    def from_weights(cls, weights_dir=None, device: str = "cpu", backend: str = "auto"):
        """Load the ``detail`` weights (see :func:`unmask.runtime.backend.open_net`)."""
        net, info = open_net("detail", weights_dir, backend, device)
        top = info.meta.get("sampling", {}).get("scales", [1.0, 6.0])[1]
        return cls(net, max_scale=top)

    def __call__(self, region: np.ndarray, model_px: float) -> np.ndarray:
        """``region`` (``H x W x 3`` float32 RGB in [0, 255], enlarged ``model_px`` times from
        the model grid) with its detail restored, same shape and range (clipped)."""
        x = np.ascontiguousarray(np.moveaxis(region, -1, 0)[None] / 255, np.float32)
        s = np.log2(min(max(float(model_px), 1.0), self.max_scale))
        scale = np.full((1, 1, *x.shape[2:]), s, np.float32)
        out = self.net(image=x, scale=scale)["restored"][0]
        return np.clip(np.moveaxis(out, 0, -1) * 255, 0, 255).astype(np.float32)
