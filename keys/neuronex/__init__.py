"""The rules of shared/neuronex-compat.md, each in one function, and nothing else."""
