"""Speech emotion recognition models: feature extractors, classifiers and the CNN."""
