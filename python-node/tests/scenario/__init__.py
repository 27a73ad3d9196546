"""The Python runner of the shared scenario corpus (docs/scenarios.md): parse.py reads a
scenario file into typed cases, run.py replays them against the Python core and renders the
effects in the canonical text the Rust runner (the reference) writes."""
