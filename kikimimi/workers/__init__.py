"""Workers on Dramatiq with Redis as broker: each pipeline stage as a task, for when one machine is not enough.

Wiring only: the stages (listener, nlp_models, responder) never import this package, and the single-process
`kikimimi run` does not either (Dramatiq is the optional `workers` extra). `tasks` declares one thin task per
stage function, `broker` builds the Redis broker, `locks` keeps two workers out of one stage's critical part,
`serve` runs a worker process and `scheduler` enqueues the polls.
"""
