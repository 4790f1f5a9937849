"""`make bench` (`python -m bench`): the pipeline's speed and memory measured against the goals of issue 13."""
