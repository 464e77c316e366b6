"""The consumer kit: poll → decode → validate → de-duplicate → handle → commit, with retries, dead letters,
a liveness file and metrics. Every worker under services/ is built from it."""
