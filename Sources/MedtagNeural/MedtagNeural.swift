// MedtagNeural: filled in by its own change.
