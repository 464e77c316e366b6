"""The consumer kit: a consumer is a chain of small steps it declares (decode → validate → de-duplicate →
handle, batching, work in a thread), ended by dead-lettering and the commit, with retries, back-pressure, a
liveness file and metrics (consumer.py: the runner and the decode step; steps.py: the steps). Every worker
under services/ is built from it."""
