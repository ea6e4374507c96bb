"""Benchmarks: `make bench` (python -m bench [name ...]) prints figures against baselines
measured in the same run. Each module here has a main()."""
