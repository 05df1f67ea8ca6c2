"""The question-answering layer: question analysis, answer windows, answers, claims, calibration."""
