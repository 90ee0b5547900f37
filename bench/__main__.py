"""``./yw bench [args]``: run the benchmarks (today: the population generator)."""

from bench.generate_persons import main

if __name__ == "__main__":
    main()
