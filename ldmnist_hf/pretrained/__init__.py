"""The shipped models (weights, configs, cards, evaluations) and `loading`, which loads any LD-MNIST model strictly."""
