"""Synthetic scenes for training and validating the face detector and its verifier: masked
face crops pasted onto backgrounds (:mod:`~unmask.scenes.composite`, drawn by
:mod:`~unmask.scenes.maker`) made of textures, pictures and gradients
(:mod:`~unmask.scenes.backgrounds`, :mod:`~unmask.scenes.patterns`,
:mod:`~unmask.scenes.textures`), with accessories drawn from the landmarks
(:mod:`~unmask.scenes.accessories`) and printed text (:mod:`~unmask.scenes.text`)."""
