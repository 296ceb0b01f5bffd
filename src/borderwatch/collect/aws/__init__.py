"""The AWS collector: one small module per service, a runner, and a replay of recorded calls."""
