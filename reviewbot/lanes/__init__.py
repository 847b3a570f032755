"""Model lanes: probe, prompt, review calls, retries, budget ledger and the engine that runs a plan."""
