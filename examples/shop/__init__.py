"""The shop suite: an environment with its own database and rules, and a simulated customer.

`covey eval examples/shop/suite.yaml --check` replays every case's solution and mistakes.
"""
