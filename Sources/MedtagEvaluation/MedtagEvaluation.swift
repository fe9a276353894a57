// MedtagEvaluation: filled in by its own change.
