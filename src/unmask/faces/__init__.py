"""Face geometry: detection backends, 68/5-point landmarks, alignment and paste-back."""
